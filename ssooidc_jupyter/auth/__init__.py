"""Signing in: the cache shared with the AWS CLI, the AWS config file, the I/O-free device
flow and its two drivers, ``login()``, ``SSOToken``, the portal and IAM token exchange.

Layer 2: imports ``oidc`` and the error tree, never ``notebook`` or ``server``. Nothing
here prints or displays; the public names are re-exported from :mod:`ssooidc_jupyter`.
"""
