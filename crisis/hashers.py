"""How passwords are hashed: Argon2id, sized for a school's server.

Django's Argon2 settings (100 MiB, 2 passes, 8 lanes) cost about 0.19 s of processor time a
log-in on a two-core server; a class of 30, or a year group of 600 at the start of a
lesson, signing in at once would spend most of the machine on hashing. These are OWASP's
recommended minimum for Argon2id (19 MiB, 2 passes, 1 lane), about a tenth of the work.
The algorithm's name is unchanged, so every stored hash still verifies, and a hash made
with other settings is made again at these on the holder's next log-in.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class SchoolArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
