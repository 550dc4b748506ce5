from ganport.commands.benchmark import main

if __name__ == '__main__':
    main()
