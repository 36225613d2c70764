"""Every demo user can open every page of their menu, and the campaign they can see."""

import re

from surveyapp.services.demo import USERS, load_demo

NAV_LINK = re.compile(r'<a class="nav-link[^"]*" href="([^"]+)"')
CAMPAIGN_LINK = re.compile(r'href="(/campaigns/\d+)"')


def test_demo_users_can_open_their_menu_pages(app, db, client, auth):
    with app.app_context():
        load_demo()
    menus = {}
    for login, _name, password, _role, _org in USERS:
        assert auth.login(login, password).status_code == 302, login
        home = client.get("/").get_data(as_text=True)
        menu = NAV_LINK.findall(home)
        menus[login] = menu
        for path in menu + CAMPAIGN_LINK.findall(client.get("/campaigns/").get_data(as_text=True)):
            response = client.get(path)
            assert response.status_code == 200, (login, path, response.status_code)
        auth.logout()
    # Each role sees only what it can use: the audit log is for administrators.
    assert "/audit/" in menus["admin"] and "/audit/" in menus["mttq.admin"]
    assert "/audit/" not in menus["dieutravien"] and "/audit/" not in menus["vpubnd"]
