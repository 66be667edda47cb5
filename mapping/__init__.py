"""Pure geo logic and folium builders. Never imports Streamlit."""
