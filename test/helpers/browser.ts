import fs from 'node:fs';

/** Debian's chromium, which `npm test`'s pretest installs when it is missing (never downloaded). */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(
    (p): p is string => !!p,
  );
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found)
    throw new Error(
      `chromium is not installed (looked at ${candidates.join(', ')}): \`npm test\` installs it with apt-get, or set CHROMIUM_PATH`,
    );
  return found;
}
