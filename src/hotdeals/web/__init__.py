"""Pages served by the app: the storefront (``/``) and the analyst dashboard (``/admin``)."""
