import ArgumentParser

Gradus.main()
