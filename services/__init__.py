"""The domain: channel-independent operations. No transport imports; services never commit."""
