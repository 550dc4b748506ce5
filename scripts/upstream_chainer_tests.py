from ganport.commands.upstream_chainer_tests import main
if __name__ == '__main__':
    main()
