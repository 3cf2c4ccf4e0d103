"""The IAM Identity Center APIs on the wire: endpoints, configuration, retries, signing,
the error-model mapping, the sync and async ``sso-oidc`` clients (``_client``) and the sync
and async AWS access portal (``sso``) clients (``_portal``), on httpx: one wire module
(``_wire``) and one transport pair (``_transport``) under both.

Layer 1 (of ``_exceptions`` < ``oidc`` < ``auth`` < ``notebook`` < ``server``): imports only
the error tree. It knows nothing of caches, sign-ins or notebooks. The public names are
re-exported from :mod:`ssooidc_jupyter`.
"""
