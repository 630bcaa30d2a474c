"""Static files in production: hashed names (cached for a year), gzip and brotli by WhiteNoise."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """The scripts' own `import … from "./x.js"` are rewritten to the hashed names too. Without
    it a module loads its siblings under their plain names: those are cached for a minute only,
    and the phone's service worker, which keeps the hashed names, does not have them offline."""

    support_js_module_import_aggregation = True
