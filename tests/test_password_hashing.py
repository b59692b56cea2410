"""Password hashes are argon2id at the settings' cost; a hash made at another cost still verifies."""

from __future__ import annotations

from argon2 import PasswordHasher

from app.config import Settings
from tests.support.stacks import Stack


def test_the_default_cost_is_argon2_cffis(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path)
    defaults = PasswordHasher()
    assert (settings.password_hash_iterations, settings.password_hash_memory_kib) == (
        defaults.time_cost, defaults.memory_cost)


def test_new_hashes_take_the_settings_cost_and_old_ones_keep_theirs(embedded: Stack) -> None:
    from app.security import hash_password, verify_password

    stored = hash_password("correct horse")  # the test stacks lower the cost
    assert stored.startswith("$argon2id$v=19$m=256,t=1,")
    assert verify_password(stored, "correct horse") and not verify_password(stored, "wrong horse")
    costly = PasswordHasher(time_cost=2, memory_cost=1024).hash("correct horse")  # made before a change
    assert verify_password(costly, "correct horse") and not verify_password(costly, "wrong horse")
    assert not verify_password(None, "correct horse")  # no such account: fails after one verification
