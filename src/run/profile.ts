/**
 * Profiles (conventions.md): smoke, quick, paper. A notebook's profile: `npm run notebooks -- --profile <p>` and reproduce.sh pass it in the
 * environment variable TCK_PROFILE; without it a notebook runs at `smoke` under CI (CI set) and at `quick`
 * otherwise (conventions.md, "Profiles").
 */
export const PROFILES = ['smoke', 'quick', 'paper'] as const;
export type Profile = (typeof PROFILES)[number];

function truthy(v: string | undefined): boolean {
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** The profile from TCK_PROFILE (checked), else `smoke` under CI, else `quick`. */
export function notebookProfile(env: Record<string, string | undefined> = process.env): Profile {
  const v = env.TCK_PROFILE?.trim();
  if (v) {
    if (!(PROFILES as readonly string[]).includes(v)) throw new Error(`environment variable TCK_PROFILE: expected one of ${PROFILES.join(', ')}, got ${JSON.stringify(v)}`);
    return v as Profile;
  }
  return truthy(env.CI) ? 'smoke' : 'quick';
}
