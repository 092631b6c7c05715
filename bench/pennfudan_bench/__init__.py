"""The measurement harness behind the figures in docs/ (imports ``pennfudan_vit``, which
never imports it)."""
