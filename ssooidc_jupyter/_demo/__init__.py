"""The parts of ``make demo`` (``python -m ssooidc_jupyter.demo``, the entry point in
``demo.py``): ``_lab.py`` (the JupyterLab it starts: a private HOME, config, port and token),
``_processes.py`` (stopping that JupyterLab and every kernel below it). A checkout's tool, left
out of the wheel with ``demo.py`` (``pyproject.toml``)."""
