"""Reading device configurations: the model of what a config says (`model`), one parser per
configuration language (`frr`, `vrp` for VRP and Comware, `ios`) and the entry points that
pick the parser for a text (`parse`). Core, so every part reads configs the same way."""
