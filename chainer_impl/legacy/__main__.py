from chainer_impl.legacy.runner import main

main()
