# class: secret
# attack: print API keys and database passwords from the environment (names a denylist misses)
# expect: crash
import os

for name in ("OPENAI_KEY", "PGPASSWORD", "DATABASE_URL", "ANTHROPIC_API_KEY", "AWS_SECRET_ACCESS_KEY"):
    print(name, "=", os.environ.get(name), flush=True)
print(sorted(os.environ), flush=True)
