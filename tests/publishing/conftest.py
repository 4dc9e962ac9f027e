import io

import pytest

from tests.publishing.packages import archive


@pytest.fixture
def vendor_token(make_user, make_token):
    user = make_user("vendor", org="hanbit")
    return make_token(user, "hanbit", ["publish", "yank", "read"])


@pytest.fixture
def upload(client):
    def _upload(token, data=None, name="parking-share", **fields):
        data = archive() if data is None else data
        form = {"archive": (io.BytesIO(data), f"{name}.tar.gz")}
        for key, value in fields.items():
            form[key] = (io.BytesIO(value), key) if isinstance(value, bytes) else value
        return client.post(f"/api/v1/solutions/{name}/releases", data=form,
                           headers={"Authorization": f"Bearer {token}"}, content_type="multipart/form-data")

    return _upload
