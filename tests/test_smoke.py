def test_country_listings_in_russian(client):
    response = client.get("/v1/countries/RU/listings", params={"lang": "ru"})
    assert response.status_code == 200
    body = response.json()
    ids = [item["id"] for item in body["data"]]
    assert ids == ["ru-evacuation", "ru-legal-aid", "ww-rainbow"]
    assert body["data"][0]["lang"] == "ru"
    assert body["data"][0]["title"] == "ru-evacuation по-русски"
    assert body["next_cursor"] is None
