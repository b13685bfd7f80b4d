"""The app starts on both databases, serves the login page and the OpenAPI document."""


def test_login_page_served(app):
    response = app.test_client().get("/login/")
    assert response.status_code == 200
    assert 'name="csrf_token"' in response.get_data(as_text=True)


def test_openapi_lists_every_model(app, admin_api):
    spec = admin_api.get("/api/v1/_openapi").get_json()
    from app.extensions import registry

    with app.app_context():
        keys = list(registry().meta.models)
    for key in keys:
        assert f"/api/v1/{key}/" in spec["paths"], key
    assert "ItemApi.post" in spec["components"]["schemas"]
