"""i2v_plugin."""
