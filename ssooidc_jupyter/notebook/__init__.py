"""The IPython side: ``%load_ext ssooidc_jupyter``, the ``%ssooidc`` magic, the background
sign-in controller, the plain and widget displays, the ``SSOOIDC`` configurable, ``--export``.

Layer 3: imports ``auth``, ``oidc`` and the error tree. Loading the extension imports only
``_extension``, ``_magic``, ``_signin``, ``_configurable`` and what they need at once, so it
stays nearly free in every kernel of a JupyterHub image.
"""
