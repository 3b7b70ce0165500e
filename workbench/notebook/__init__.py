"""IPython magics and ipywidgets controls for running queries in Jupyter."""
