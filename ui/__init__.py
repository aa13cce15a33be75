"""The Qt skin over ``labbench``: widgets observe engine events and send commands; they own no training state."""
