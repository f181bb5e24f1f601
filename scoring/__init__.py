"""ReviewDesk's domain: everything but the screen. Never imports streamlit."""
