"""Generated REST APIs (FAB BaseApi) over the live registry."""
