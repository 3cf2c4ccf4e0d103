"""Role credentials that follow the work to Dask workers, and refresh there.

Layer 3: above ``auth`` (role sessions), below ``notebook`` (``%ssooidc dask`` and the
widget's role picker use it). Needs the ``dask`` extra (``distributed``)::

    from ssooidc_jupyter.dask import forward_credentials

    with forward_credentials(client, token.session("111111111111", "ReadOnly")):
        df = dd.read_parquet("s3://bucket/data/").compute()

:mod:`._forward` is the kernel side (fetch, send, renew, stop); :mod:`._plugin` the worker
side (the ``WorkerPlugin`` the scheduler keeps). ``docs/dask.md`` says why and how.
"""

from __future__ import annotations

from ._forward import CredentialForwarder, ForwardState, forward_credentials

__all__ = ["CredentialForwarder", "ForwardState", "forward_credentials"]
