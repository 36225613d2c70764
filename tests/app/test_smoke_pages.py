"""Every page renders for the demo's users (a quick guard against template errors)."""

from surveyapp.services.demo import USERS, load_demo


def test_demo_users_can_open_their_menu_pages(app, db, client, auth):
    with app.app_context():
        load_demo()
    for login, _name, password, _role, _org in USERS:
        response = auth.login(login, password)
        assert response.status_code == 302, login
        page = client.get("/")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        for path in ["/campaigns/", "/registry/", "/registry/agencies", "/registry/successions",
                     "/registry/procedures", "/orgs/", "/tokens/", "/audit/", "/campaigns/1"]:
            if f'href="{path}"' in html or path == "/campaigns/1":
                r = client.get(path)
                assert r.status_code in (200, 403), (login, path, r.status_code)
        auth.logout()
