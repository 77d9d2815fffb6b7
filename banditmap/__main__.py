from banditmap.cli import main

main()
