from ganport.commands.legacy import main
if __name__ == '__main__':
    main()
