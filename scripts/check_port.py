from ganport.commands.check_port import main
if __name__ == '__main__':
    main()
