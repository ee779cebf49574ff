"""The reference claim service: the landing page of app-style links and the OAuth callback."""
