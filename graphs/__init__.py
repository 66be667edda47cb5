"""Pure network logic (networkx/scipy). Never imports Streamlit."""
