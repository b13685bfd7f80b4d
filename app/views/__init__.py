"""Server-rendered pages: home, generated list / detail / form pages, admin pages."""
