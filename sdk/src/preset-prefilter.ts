/**
 * Speed (issue 22): whether secretlint's recommended preset (12.0.0) could report anything in a
 * text, asked before running it. Each of its rules reports only a match of its own patterns,
 * and every pattern holds a piece of text (or, for basic auth, a shape) any match must contain:
 * a text holding none of them gets no report from any rule, so running the preset on it (its
 * rules set up again, its source and line index built, a context and events a call) is skipped.
 * Only a "no" is trusted; a "maybe" runs the preset as always, so findings are unchanged.
 *
 * A first snapshot of the services root screens about 220 texts (every file the files provider
 * reads that its package did not ship as is, and every provider's document): 70% of them hold
 * none of these pieces; the preset's 50 ms of CPU → about 15 ms.
 *
 * The pieces, rule by rule (read from the preset's source; the expression below is
 * case-insensitive, a superset of the rules that are not):
 * - aws: an access key id's prefix (`AKIA`, `ASIA`, `A3T`…) and 16 letters or digits,
 *   `secret_access` or `secretaccess` (its secret access key's name), `account` or `account_id`
 *   and a `:`, `=` or `=>` (its account id's; the id scans are off by default);
 * - gcp: reports only by the file's extension (.p12, .json), which findSecrets never gives it
 *   (`ext` is left empty);
 * - npm: `x-oauth-basic`, `_authToken=`, `npm_`;
 * - slack: `xoxb`, `xoxp`, `xapp`, `xoxa`, `xoxo`, `xoxr`, `hooks.slack.com/services/`;
 * - basicauth: `://`, then a user, `:`, a password and `@` (its URL's shape);
 * - openai `T3BlbkFJ`; anthropic `sk-ant-api0`; groq `gsk_`; huggingface `hf_`; linear
 *   `lin_api_`; notion `ntn_`; privatekey `PRIVATE KEY-----` (or `PRIVATE KEY BLOCK-----`);
 *   sendgrid `SG.`, a word and `.`; shopify `shppa_`,
 *   `shpca_`, `shpat_`, `shpss_`; github `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`;
 *   gitlab `glpat-`; grafana `glc_`, `glsa_`; 1password `ops_ey`; database connection strings
 *   `mongodb://`, `mongodb+srv://`, `mysql://`, `mysqlx://`, `postgres://`, `postgresql://` (any
 *   case, as its patterns); hashicorp-vault `hvs.`, `hvb.`,
 *   `hvr.`; vercel `vcp_`, `vci_`, `vca_`, `vcr_`, `vck_`; databricks `dapi`; docker
 *   `dckr_pat_`; figma `figd_`.
 *
 * A preset with any other rule (an upgrade) is run on every text: see PRESET_RULES.
 * sdk/test/secrets.test.ts checks a sample of every rule and that nothing the preset reports
 * in a corpus is in a text this turns away.
 */
const MAY_REPORT = new RegExp(
  [
    '(?:A3T[A-Z0-9]|AKIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{16}|secret_?access|account_?(?:id)?["\']?\\s*(?::|=>|=)',
    'x-oauth-basic|_authToken=|npm_',
    'xoxb|xoxp|xapp|xoxa|xoxo|xoxr|hooks\\.slack\\.com/services/',
    ':\\/\\/[-a-zA-Z0-9_]+:[-a-zA-Z0-9_]+@',
    'T3BlbkFJ|sk-ant-api0|gsk_|hf_|lin_api_|ntn_|PRIVATE KEY(?: BLOCK)?-----|SG\\.\\w+\\.',
    'shppa_|shpca_|shpat_|shpss_|ghp_|gho_|ghu_|ghs_|ghr_|github_pat_|glpat-|glc_|glsa_|ops_ey',
    'mongodb(?:\\+srv)?:\\/\\/|mysqlx?:\\/\\/|postgres(?:ql)?:\\/\\/|hvs\\.|hvb\\.|hvr\\.|vcp_|vci_|vca_|vcr_|vck_|dapi|dckr_pat_|figd_',
  ].join('|'),
  'i',
)

/** The preset's rules this was worked out for (the comment filter is never run: secrets.ts). */
export const PRESET_RULES: ReadonlySet<string> = new Set(
  [
    'aws', 'gcp', 'npm', 'slack', 'basicauth', 'openai', 'anthropic', 'groq', 'huggingface', 'linear', 'notion', 'privatekey',
    'sendgrid', 'shopify', 'github', 'gitlab', 'grafana', '1password', 'database-connection-string', 'hashicorp-vault', 'vercel',
    'databricks', 'docker', 'figma',
  ].map((r) => `@secretlint/secretlint-rule-${r}`),
)

/** Whether the preset could report something in `text` (false: it surely reports nothing). */
export function presetMayReport(text: string): boolean {
  return MAY_REPORT.test(text)
}
