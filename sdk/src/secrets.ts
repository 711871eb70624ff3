/**
 * The one secret detector. Every provider that writes documents, and the push-time scan, asks it
 * whether a text holds a secret; the rules live here and nowhere else.
 *
 * Two sources of rules:
 * - secretlint's recommended preset (@secretlint/secretlint-rule-preset-recommend, 12.x: the last
 *   line that runs on Node 20) for provider tokens: GitHub, GitLab, Slack, npm, AWS, GCP, OpenAI,
 *   SendGrid, Shopify, Hugging Face, Vault… maintained upstream as providers change formats.
 *   Measured on a full /etc before choosing: the host's /etc (289 text files, 0.9 MB) in 58 ms, a
 *   minimal Debian root's /etc (117 files, 0.2 MB) in 32 ms, one 1 MB text in 11 ms; the whole
 *   detector (preset and the rules below) takes 0.15 s for the host's /etc (1.4 MB) on an idle
 *   two-core machine, 0.6 s on a loaded one. The preset alone misses half of what a server's
 *   configuration holds (below), so hand-written rules stay; hence both. Its
 *   comment filter (`secretlint-disable`) is left out: the text we scan is untrusted and must
 *   not be able to switch the scan off.
 * - Hand-written rules for what a server's configuration holds and the preset does not know:
 *   private keys of every kind (also truncated or inside JSON), JWTs, Azure keys, GCP service
 *   account key ids, URLs with credentials, .netrc, .pgpass, Docker config auths, kubeconfig key
 *   data, password hashes (shadow, htpasswd also in a file of any name, htdigest, Dovecot's
 *   `{SCHEME}`, a crypt(3) or SCRAM hash wherever it stands), postfix sasl_passwd, assignment-style
 *   credentials in config files (`password = …`, `secret: …`, `api_key=…`, `psk=…`,
 *   `PrivateKey = …`), a password a password command echoes (`ssl_passphrase_command = 'echo …'`),
 *   Nagios' `$USERn$=…`, cloud-init's `chpasswd: list:`, credentials on command lines
 *   (`--db-password=…`, `--token …`, `mysql -p…`, a password echoed into `--password-stdin`),
 *   Authorization headers, Telegram bot tokens and Discord webhooks.
 * - Session 18, measured against gitleaks' default rules (config/gitleaks.toml) and secretlint's
 *   preset: provider tokens by their prefix where no key names them (Stripe, DigitalOcean,
 *   GitLab's runner, deploy and trigger tokens, Atlassian/Bitbucket, PyPI, Slack's configuration
 *   tokens, Twilio, Mailgun, Mailchimp, Brevo, Vault's legacy `s.…`, Terraform Cloud, Google API
 *   keys and OAuth client secrets, Azure AD client secrets, Cloudflare origin CA keys, Heroku,
 *   Pulumi, Doppler, Sentry, New Relic, Alibaba, Fly.io, Tailscale, Matrix, ntfy, Teams webhooks),
 *   keys run together (`dbpassword`, `$wgDBpassword`, ngrok's `authtoken`), WordPress's
 *   `define('DB_PASSWORD', …)`, tools' positional passwords (`rabbitmqctl add_user`,
 *   `wpa_passphrase`, `nmcli … password`, net-snmp's `-c`/`-A`/`-X`, `ipmitool -P`, `unzip -P`,
 *   FreeRDP's `/p:`, `keytool -storepass`, `aws configure set …_key`), `com2sec`, Squid's
 *   `login=`, Monit, cntlm, vpnc, Compose's `$$apr1$$` hashes, Caddy's base64 bcrypt, Argon2 and
 *   PBKDF2 hashes.
 * - Session 20: what scripts, units and crontabs hand to programs: chpasswd's here-documents,
 *   here-strings and cron's `%` input, WireGuard keys given to `wg` (`<(echo …)`, `| wg pubkey`),
 *   systemd's `SetCredential=`/`SetCredentialEncrypted=`, MariaDB's command names, `openssl passwd`,
 *   passwords piped to kinit, realm, smbpasswd, cryptsetup and gpg, pacemaker's `pcs … auth -p`,
 *   offlineimap's `remotepass`, mbsync's `Pass`, SMTP `AUTH PLAIN`; values in JSON-escaped quotes.
 * - Session 46: texts the rules read through an encoding: getfattr's `0s` base64 values (an
 *   extended attribute in the files manifest; `encodedValueSpans`; its `0x` hex ones since
 *   session 47) and a shell-quoted line's
 *   `'\''` (a command in the apply journal; `shellUnquoted`).
 *
 * Why our own rules rather than gitleaks' set whole: gitleaks is a Go program (no library for
 * Node), and of its 222 rules most are a provider's name near a generic 32-character value
 * (`[\w.-]{0,50}?(?:mailgun)…`) with an entropy threshold, which our key rules already cover by
 * the key, while its `generic-api-key` is what CREDENTIAL_WORDS and looksLikeToken do with
 * measured false findings (test/integration/secret-false-positives.test.ts). Its prefix rules
 * are what a key cannot catch; those are taken (`provider-token`). A newer secretlint preset
 * (13.x) needs a newer Node than the project's 20.
 *
 * A finding says which rule, where (line, column, offsets) and never the secret itself.
 */

import { PRESET_RULES, presetMayReport } from './preset-prefilter.js'
import { holdsWord, partsToSearch, prefiltering, type RuleNeeds } from './rule-prefilter.js'
import { TextMarks, firstAtOrAfter } from './text-marks.js'

export interface SecretFinding {
  /** Stable rule id, e.g. "private-key", "credential-assignment", "github" (secretlint's rules keep their own short name). */
  rule: string
  /** What was found, in words; never the value. */
  description: string
  /** 1-based line and column of the secret value. */
  line: number
  column: number
  /** Offsets of the secret value in the text, [start, end): for redaction. Never print text.slice(start, end). */
  start: number
  end: number
}

export interface FindSecretsOptions {
  /** Where the text comes from (a machine path or a twin path): some rules only apply to some files (.netrc, .pgpass…). */
  path?: string
}

/** Bump when the rules change what they find: caches of earlier verdicts are dropped. */
export const SECRET_RULES_VERSION = 45

/** What redactSecrets puts in place of a secret value. */
export const REDACTED = '<redacted>'

/** A program's file known by its keys (HandRule.shape): its name's form, and what its text holds. */
interface Shape {
  file: RegExp
  holds: readonly RegExp[]
}

/**
 * Between a name and a value field of one JSON object (session 45): a comma, then up to 8 other
 * fields of a scalar value (a string, a number, true, false, null), each followed by a comma.
 */
const PAIR_BETWEEN = String.raw`[ \t]*,[ \t\r\n]*(?:"[A-Za-z0-9_.-]{1,64}"[ \t]*:[ \t]*(?:"(?:[^"\\\r\n]|\\.)*"|-?[0-9][0-9.eE+-]{0,30}|true|false|null)[ \t]*,[ \t\r\n]*){0,8}`

interface HandRule {
  id: string
  description: string
  /** Global regex; the named group `v` (or `v1`/`v2`/`v3`, first that matched) is the secret value, else the whole match. */
  pattern: RegExp
  /** Only for texts whose path's last component matches. */
  file?: RegExp
  /** Not for texts whose path's last component matches. */
  notFile?: RegExp
  /**
   * Only for texts whose whole path matches: a machine path (`/etc/asterisk/sip.conf`) or a twin
   * path (`filesystem/etc/asterisk/sip.conf`), so written `(?:^|/)etc/…` (session 32: a rule bound
   * to a program's own files, where a key says more than it says elsewhere).
   */
  place?: RegExp
  /**
   * Or, at any other path (or none), for a text that holds every one of these: a program's own
   * file known by its keys wherever it is kept (session 33: Mattermost's config.json outside a
   * `mattermost` folder, its `"ServiceSettings"`, `"TeamSettings"` and `"SqlSettings"`). Each
   * searched once, in order, only when `place` does not match and the path's last component
   * matches `file` (a JSON, YAML or TOML name: most texts are never searched).
   */
  shape?: Shape
  /**
   * Only for texts that hold one of these: most texts hold none, and the rule's expression is then
   * neither compiled nor run (a first snapshot's texts of the services root: 2.3 MB). In any case
   * where the pattern ignores case (its `i` flag): a hint written `password` stood before session
   * 14 for `PASSWORD` and `password` alone, and `CREATE USER app Password '…'` was passed over.
   */
  hint?: readonly string[]
  /**
   * Words a text holds wherever the rule keeps a match, mostly in the match: the rule is not run
   * where none is (rule-prefilter.ts). Unlike `hint`, never a condition of the rule's own: its
   * findings are the same without it. In any case where the pattern ignores case, as `hint`.
   */
  needs?: RuleNeeds
  /**
   * Keep the match only when this says so (key and value shapes the regex cannot express; the text
   * and the match's offset for its context). What it looks back for from the match (a block's
   * parent line, a section, a comment's opener) it asks `marks`, which finds each once a text
   * (text-marks.ts): a search back from every match is quadratic in a text of many matches.
   */
  accept?: (groups: Record<string, string | undefined>, text: string, at: number, marks: TextMarks) => boolean
  /**
   * Where in a part (a line, or the whole text) the rule's matches can lie, as [start, end)
   * offsets into it: the pattern is run on each alone. Like `needs`, only a "no" (no match the
   * rule keeps lies outside them), and off under `withoutPrefilters`.
   */
  within?: (part: string) => Array<[number, number]>
  /**
   * A match `accept` turns away whose value holds another assignment is searched again from the
   * end of its key `k`: the value of `Environment=DB_PASSWORD=…`, of a JSON document's
   * `"command": "… --password=…"` or of `primary_conninfo = '… password=…'` would otherwise be
   * passed over whole with its key.
   */
  searchValue?: boolean
  /**
   * A match `accept` turns away is searched again from its next character when this says so: a
   * match whose look-behind `accept` asks (a look-behind searched back from every start was
   * quadratic, session 37) is then passed over as the look-behind's failure passed it over.
   * Session 38: or from the text's offset it gives (at least the next character): the first
   * later start that could match (pam_unix's `user=`: the starts between would find the same
   * overlong name again, each searching to its end).
   */
  again?: (groups: Record<string, string | undefined>, text: string, at: number, marks: TextMarks) => boolean | number
}

/** Words that make a key a credential when the key ends with them: `db_password`, `dbPassword`, `api-key`, `PrivateKey`. */
const CREDENTIAL_WORDS = [
  'password',
  'passwd',
  'passphrase',
  'pass',
  'pwd',
  'secret',
  'token',
  'apikey',
  'api_key',
  'api-key',
  'accesskey',
  'access_key',
  'access-key',
  'privatekey',
  'private_key',
  'private-key',
  'authkey',
  'auth_key',
  'auth-key',
  'credential',
  'credentials',
  'psk',
  'wep-key0',
  'wep-key1',
  'wep-key2',
  'wep-key3',
  'secretkey',
  'secret_key',
  'secret-key',
  'presharedkey',
  'preshared_key',
  'preshared-key',
  // sssd's ldap_default_authtok; Rails' SECRET_KEY_BASE; Laravel's APP_KEY; keys that encrypt or sign.
  'authtok',
  'key_base',
  'app_key',
  'encryption_key',
  'signing_key',
  'master_key',
  'hmac_key',
  // OpenLDAP's rootpw (slapd.conf) and olcRootPW (cn=config).
  'rootpw',
  // Session 18: acme.sh's Cloudflare key (`SAVED_CF_Key='…'`, 37 hex digits: no token's shape),
  // certbot's `--eab-hmac-key`, Roundcube's `des_key`.
  'cf_key',
  'hmac-key',
  'des_key',
  // Session 31: a password's stored hash under a key that says so (RabbitMQ's definitions.json
  // `"password_hash"` and rabbitmq.conf's `default_pass_hash`, Pi-hole 6's `pwhash`, Graylog's
  // `root_password_sha2`); PagerDuty's integration keys in Alertmanager (`routing_key`,
  // `service_key`: 32 hex digits, no token's shape).
  'password_hash',
  'pass_hash',
  'pwhash',
  'password_sha2',
  'routing_key',
  'service_key',
] as const

/**
 * Credential words that end a key written in capitals without a separator: PGPASSWORD (libpq),
 * DBPASSWORD. Not `PASSWD` (sudoers' `NOPASSWD: ALL`) nor `PASS` (`BYPASS`).
 */
const CAPITALS_WORDS = ['PASSWORD', 'PASSPHRASE', 'SECRET', 'TOKEN'] as const

/** Whole keys that name a credential though they end with no credential word: environment variables tools read. */
const CREDENTIAL_KEYS = new Set([
  'sshpass',
  'rediscli_auth',
  'pgpassword',
  'mysql_pwd',
  'requirepass',
  'masterauth',
  'masterpass',
  '_auth',
  'ticketsalt',
  // Session 18: keytool's store and key passwords (`-storepass …`, `-keypass …`), curl's `--oauth2-bearer`.
  'storepass',
  'keypass',
  'srcstorepass',
  'deststorepass',
  'srckeypass',
  'destkeypass',
  'oauth2-bearer',
  // Session 30: kubeadm's `--certificate-key` (it decrypts the control plane's certificates uploaded to the cluster).
  'certificate-key',
  // Session 29: WordPress's keys and salts that end in no credential word (`define('NONCE_SALT', '…')`,
  // Debian keeps them in /etc/wordpress/config-*.php), Drupal's `hash_salt`.
  'logged_in_key',
  'nonce_key',
  'auth_salt',
  'secure_auth_salt',
  'logged_in_salt',
  'nonce_salt',
  'hash_salt',
  // Session 31: Vault's dev server root token (`vault server -dev -dev-root-token-id=…`, its
  // environment variable), MediaWiki's `$wgUpgradeKey` (16 hex digits), PHP's MySQL default
  // password (`mysqli.default_pw`), Kamailio's kamctlrc database passwords (`DBRWPW`, `DBROPW`,
  // `DBROOTPW`).
  'dev-root-token-id',
  'vault_dev_root_token_id',
  'wgupgradekey',
  'mysqli.default_pw',
  'dbrwpw',
  'dbropw',
  'dbrootpw',
])

/**
 * A credential word run together with a word that says whose, as PHP and INI files write keys:
 * Nextcloud's `dbpassword` and `mail_smtppassword`, MediaWiki's `$wgDBpassword`, Murmur's
 * `serverpassword`, ngrok's `authtoken`, Moodle's `$CFG->dbpass` (session 18), offlineimap's
 * `remotepass` (session 20). Only after such
 * a word, itself at the key's start, after a separator or starting a capital run
 * (`wgDBpassword`): any word before measured false findings in a Debian root's /usr/share
 * (PostgreSQL's catalog `rolpassword = text`, `prstoken = regproc`, git's `credential-libsecret
 * backends.`, a translation's `säkerhetstoken:`). Not a key in capitals (sudoers' `NOPASSWD`),
 * not `passwd` (cloud-init's `chpasswd:` block); `pass` after fewer words (not `bypass`).
 */
let runTogether: RegExp | undefined
// Made when first asked for, as the rules are (makeHandRules): a command that screens nothing does not parse it.
const RUN_TOGETHER = (): RegExp =>
  (runTogether ??=
    /(?:(?:db|sql|mysql|pg|postgres|smtp|mail|imap|pop|ldap|bind|admin|root|user|ftp|server|auth|api|app|client|access|web|vnc|wifi|shared|master|proxy|rpc|redis|bot|service|remote)(?:password|passphrase|secret|token)|(?:db|sql|mysql|pg|smtp|mail|imap|ldap|bind|admin|root|user|ftp|remote)pass)$/)

/** Whether the key (as written; `lower` in lower case) ends with a run-together credential whose word starts where a word can. */
function isRunTogether(bare: string, lower: string): boolean {
  if (bare === bare.toUpperCase()) return false
  const found = RUN_TOGETHER().exec(lower)
  if (found === null) return false
  const at = found.index
  if (at === 0) return true
  const before = bare[at - 1] as string
  if (before === '_' || before === '-' || before === '.') return true
  // A capital run after lower case: MediaWiki's `wgDBpassword`; and lower case after a capital
  // run that followed lower case: its `wgDBadminpassword` (session 31; not `DBadminpassword`).
  const first = bare[at] as string
  if (before >= 'A' && before <= 'Z' && first >= 'a' && first <= 'z') return /[a-z][A-Z]+$/.test(bare.slice(0, at))
  return before >= 'a' && before <= 'z' && first >= 'A' && first <= 'Z'
}

/** Keys that end like a credential but name where one is kept, not the credential (systemd's LoadCredential=name:path). */
const KEY_EXCEPTIONS = new Set(['loadcredential', 'importcredential', 'loadcredentialencrypted'])

/** Values that name no secret: empty, placeholders, references, switches, paths (session 41: a program, Apache's `exec:/PATH`). */
const NOT_A_VALUE =
  /^(?:|\*+|x+|\.+|-+|true|false|yes|no|on|off|none|null|nil|undef|undefined|required|optional|prompt|ask|disabled?|enabled?|string|str|bytes|int|bool|boolean|secret|password|passwd|pass|<[^>]*>|\$[{(]?[A-Za-z_]\S*|%\([^)]*\)s|%[a-z]|\{\{[^}]*\}\}|@@?[A-Za-z_]+@?@?|(?:\.{0,2}|~)\/\S*|file:\S*|exec:\/\S*|[A-Za-z_][\w.]*\(.*)$/i

/**
 * Does the key end with a credential word at all (any case, before closing quotes)? The cheap
 * first question: most keys do not. The words are letters, digits, "-" and "_", literal in a
 * pattern; the keys the rules pass are ASCII. Session 52 measured a string check in its place (the
 * words by their last two characters): the expression's compile (2.7 M instructions) was saved
 * where few keys are asked (minbase `snapshot --init`: 87), but each key cost about 2,400 more
 * in the interpreter than the compiled expression's run (3,690 keys of the services root's /etc:
 * 4.9 → 10.2 M, callgrind); one like-for-like pair of the services root's `snapshot --init` with
 * it counted +14 M: not kept.
 */
const ENDS_LIKE_CREDENTIAL = new RegExp(`(?:${[...CREDENTIAL_WORDS, ...CREDENTIAL_KEYS].join('|')})["']*$`, 'i')

/** iSCSI's mutual CHAP secret: `node.session.auth.password_in`, a credential key though it ends with no credential word. */
const PASSWORD_IN = 'assword_in'

/**
 * Whether a key names a credential. Also with one digit after its credential word (session 31:
 * rclone's crypt remote keeps its salt as `password2`; `pass1`), the key without it asked.
 */
function isCredentialKey(key: string): boolean {
  if (isCredentialKeyAsWritten(key)) return true
  const digitless = /[A-Za-z]\d["']*$/.test(key) ? key.replace(/\d(["']*)$/, '$1') : undefined
  return digitless !== undefined && isCredentialKeyAsWritten(digitless)
}

function isCredentialKeyAsWritten(key: string): boolean {
  if (!ENDS_LIKE_CREDENTIAL.test(key)) return key.includes(PASSWORD_IN) && /[._]password_in["']*$/i.test(key)
  const bare = key.replace(/^[-"'$@]+|["']+$/g, '')
  const lower = bare.toLowerCase()
  if (KEY_EXCEPTIONS.has(lower)) return false
  if (CREDENTIAL_KEYS.has(lower)) return true
  if (/^[A-Z0-9_]+$/.test(bare) && CAPITALS_WORDS.some((w) => bare.endsWith(w))) return true
  for (const word of CREDENTIAL_WORDS) {
    if (!lower.endsWith(word)) continue
    const at = bare.length - word.length
    if (at === 0) return true
    const before = bare[at - 1] as string
    // A separator before the word, or camelCase (`dbPassword`, `PrivateKey`): not `bypass`, `compass`.
    if (before === '_' || before === '-' || before === '.') return true
    const first = bare[at] as string
    if (first >= 'A' && first <= 'Z' && !(before >= 'A' && before <= 'Z')) return true
    // After an acronym: `DBPassword`, `MYSQLPassword`, `SMTPPass` (the word capitalised, then lower case; not `BYPASS`).
    const next = bare[at + 1]
    if (first >= 'A' && first <= 'Z' && next !== undefined && next >= 'a' && next <= 'z') return true
  }
  return isRunTogether(bare, lower)
}

/**
 * Keys that name a secret only when what they hold looks like one: `SESSION_KEY=…`,
 * `STRIPE_KEY=sk_live_…`, `"key": "…"`, `"session": "…"`, `cookie=…`, `MYAPP_AUTH=…` (session 17;
 * not `auth_type = PASS`: no token's shape). A `KEY=` also names a key's
 * path, a fingerprint or a keyboard's key; hence the value's shape decides (looksLikeToken). Not a
 * public key (`PublicKey = …` of WireGuard peers).
 */
const TOKEN_WORDS = ['key', 'session', 'sessionid', 'session_id', 'cookie', 'sid', 'auth'] as const
const PUBLIC_KEY = /(?:public|pub|host|peer)[_.-]?key$/i

/**
 * What every key isCredentialKey or isTokenKey passes holds, in some case: one of these words
 * (rule-prefilter.ts keeps the fewest: `pass` for `password`, `passwd`, `sshpass`…).
 */
const KEY_WORDS: readonly string[] = [...CREDENTIAL_WORDS, ...CREDENTIAL_KEYS, PASSWORD_IN, ...TOKEN_WORDS]

function isTokenKey(key: string): boolean {
  const bare = key.replace(/^[-"'$@]+|["']+$/g, '')
  if (PUBLIC_KEY.test(bare)) return false
  const lower = bare.toLowerCase()
  return TOKEN_WORDS.some((word) => {
    if (!lower.endsWith(word)) return false
    const at = bare.length - word.length
    if (at === 0) return true
    const before = bare[at - 1] as string
    if (before === '_' || before === '-' || before === '.') return true
    const first = bare[at] as string
    return first >= 'A' && first <= 'Z' && !(before >= 'A' && before <= 'Z')
  })
}

/**
 * A value no person would type nor a program print as a name: 16 or more characters of a token's
 * alphabet with lower case, upper case and digits all in it (hex digests and fingerprints, paths,
 * words and version numbers are not).
 */
export function looksLikeToken(value: string | undefined): boolean {
  if (value === undefined) return false
  const v = value.trim()
  return v.length >= 16 && /^[A-Za-z0-9+/=_.~-]+$/.test(v) && /[a-z]/.test(v) && /[A-Z]/.test(v) && /[0-9]/.test(v) && isValue(v)
}

/** A value a credential could be: not empty, nor a placeholder, reference, switch or path (NOT_A_VALUE). */
export function isValue(value: string | undefined): boolean {
  if (value === undefined) return false
  const v = value.trim()
  return v.length >= 3 && !NOT_A_VALUE.test(v)
}

/**
 * Whether the line that begins at `at` (just after a `\n`) follows a line that `opens` a block
 * with only lines the block `holds` between, each line asked as [start, end) of `text` (`end` at
 * its `\n`): what a look-behind over the lines before it asked (cloud-init's `list:`, chpasswd's
 * here-document). Searched back from each line of a block, that look-behind was quadratic in the
 * block (session 37); here each line is asked once a text, under `key` in `marks`.
 */
function afterOpeningLine(text: string, at: number, marks: TextMarks, key: string, opens: (start: number, end: number) => boolean, holds: (start: number, end: number) => boolean): boolean {
  const known = marks.once(key, () => new Map<number, boolean>())
  const asked: number[] = []
  let result = false
  for (let p = at; p > 0; ) {
    const seen = known.get(p)
    if (seen !== undefined) {
      result = seen
      break
    }
    asked.push(p)
    const start = p >= 2 ? text.lastIndexOf('\n', p - 2) + 1 : 0
    if (opens(start, p - 1)) {
      result = true
      break
    }
    if (!holds(start, p - 1)) break
    p = start
  }
  for (const p of asked) known.set(p, result)
  return result
}

/** Whether `re` (sticky) matches text[start, end) whole. */
function spans(re: RegExp, text: string, start: number, end: number): boolean {
  re.lastIndex = start
  return re.test(text) && re.lastIndex === end
}

/** cloud-init's `list:` line, from its `list:` to the line's end, and a line of the block (session 37: afterOpeningLine). */
const LIST_OPENS = /list:[ \t]*(?:[|>][-+]?[ \t]*)?\r?\n/y
const LIST_HOLDS = /[ \t]+(?:-[ \t]+)?["']?[^\s:#"']+:[^\s"']+["']?[ \t]*\r?\n/y

function inChpasswdList(text: string, at: number, marks: TextMarks): boolean {
  return afterOpeningLine(
    text,
    at,
    marks,
    'cloud-init-list',
    // Only the line's last `list:` can have no more than blanks and `|` after it.
    (start, end) => {
      const i = marks.lastIndexOf('list:', end)
      return i >= start && (i === 0 || !/\w/.test(text[i - 1] as string)) && spans(LIST_OPENS, text, i, end + 1)
    },
    (start, end) => spans(LIST_HOLDS, text, start, end + 1),
  )
}

/** A line of chpasswd's here-document, and its opening line's two words (session 37: afterOpeningLine). */
const HEREDOC_HOLDS = /[ \t]*[^\s:#"']+:[^\s"']+[ \t]*\r?\n/y

function inChpasswdHereDocument(text: string, at: number, marks: TextMarks): boolean {
  return afterOpeningLine(
    text,
    at,
    marks,
    'chpasswd-here-document',
    // A line with the word chpasswd and a `<<` (not the first two of `<<<`), in either order.
    (start, end) => {
      if (marks.lastIndexOf('chpasswd', end - 8) < start || marks.lastIndexOf('<<', end - 2) < start) return false
      const line = text.slice(start, end)
      return /\bchpasswd\b/.test(line) && /<<(?!<)/.test(line)
    },
    (start, end) => spans(HEREDOC_HOLDS, text, start, end + 1),
  )
}

/**
 * Whether a crontab line's `%` just before `at` comes after chpasswd's first `%`: cron hands what
 * follows a command's first `%` to it as input, a `%` a line. The first `%` after a word chpasswd
 * with no `<` between, found once a line (session 37: a look-behind searched back from every `%`
 * was quadratic in a line of them).
 */
function inChpasswdCronInput(text: string, at: number, marks: TextMarks): boolean {
  const start = marks.lastIndexOf('\n', at - 1) + 1
  const input = marks.once(`chpasswd-cron-input:${start}`, () => {
    const newline = marks.indexOf('\n', start)
    const end = newline < 0 ? text.length : newline
    const stops = /[\n%<]/g
    for (let c = marks.indexOf('chpasswd', start); c >= 0 && c < end; ) {
      if ((c > 0 && /\w/.test(text[c - 1] as string)) || /\w/.test(text[c + 8] ?? '')) {
        c = marks.indexOf('chpasswd', c + 1)
        continue
      }
      stops.lastIndex = c + 8
      const stop = stops.exec(text)?.index ?? text.length
      if (text[stop] === '%') return stop + 1
      // A `<`: each chpasswd before it stops there too.
      c = marks.indexOf('chpasswd', stop)
    }
    return Number.POSITIVE_INFINITY
  })
  return at >= input
}

/** A blank before samba's `-U user%password` or lftp's `-u user,password` (the value a look-ahead's). */
const SAMBA_LFTP_FLAG = String.raw`[ \t](?=(?:-U|--user(?:name)?)(?:[ \t]+|=)["']?[^\s%"']+%(?<v1>[^\s"']+)|-u[ \t]+["']?[^\s,"']+,(?<v2>[^\s"']+))`

/**
 * The flags of a line (their blanks' offsets) that the commands before them took, as
 * `\b(?:smbclient|rpcclient|smbcacls|smbget|smbtar|net)\b[^\n|;&]*?FLAG|\blftp\b[^\n|;&]*?FLAG`
 * takes them: from the line's start, the first command whose first flag of its kind lies before
 * the next `|`, `;` or `&` takes that flag, and the search goes on after its value. That
 * expression searched the line to its end from each command (quadratic in a line of them);
 * worked out once a line here (session 37), with a pointer into each kind's flags.
 */
function sambaLftpFlags(text: string, at: number, marks: TextMarks): Set<number> {
  const start = marks.lastIndexOf('\n', at) + 1
  return marks.once(`samba-lftp-flags:${start}`, () => {
    const newline = marks.indexOf('\n', start)
    const line = text.slice(start, newline < 0 ? text.length : newline)
    const flags: Record<'samba' | 'lftp', Array<{ at: number; end: number }>> = { samba: [], lftp: [] }
    const flag = new RegExp(SAMBA_LFTP_FLAG, 'gd')
    for (let m = flag.exec(line); m !== null; m = flag.exec(line)) {
      const value = m.indices?.groups?.v1 ?? m.indices?.groups?.v2
      if (value !== undefined) flags[m.groups?.v1 !== undefined ? 'samba' : 'lftp'].push({ at: m.index, end: value[1] })
    }
    const taken = new Set<number>()
    const next = { samba: 0, lftp: 0 }
    const stops = /[|;&]/g
    let stop = -1
    let after = 0
    const commands = /\b(?:smbclient|rpcclient|smbcacls|smbget|smbtar|net|lftp)\b/g
    for (let m = commands.exec(line); m !== null; m = commands.exec(line)) {
      if (m.index < after) continue
      const kind = m[0] === 'lftp' ? 'lftp' : 'samba'
      const from = m.index + m[0].length
      if (stop < from) {
        stops.lastIndex = from
        stop = stops.exec(line)?.index ?? line.length
      }
      const ofKind = flags[kind]
      while (next[kind] < ofKind.length && (ofKind[next[kind]] as { at: number }).at < from) next[kind]++
      const first = ofKind[next[kind]]
      if (first === undefined || first.at >= stop) continue
      taken.add(start + first.at)
      after = first.end
      commands.lastIndex = Math.max(commands.lastIndex, after)
    }
    return taken
  })
}

/** What the `wg` rule's earlier expression was made of (session 37: wgKeys). */
const WG_KEY = String.raw`[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=`
const WG_ECHO = String.raw`(?:echo|printf)[ \t]+(?:-[neE]+[ \t]+)?(?:(?:"%s(?:\\n)?"|'%s(?:\\n)?'|%s(?:\\n)?)[ \t]+)?(?:\\?["'])?`

/**
 * The keys of a line (their offsets) that the `wg` rule's earlier expression took: `wg set … private-key
 * <(echo KEY)`, `echo KEY | wg set … private-key /dev/stdin` (or `| wg pubkey`), `wg set …
 * private-key /dev/stdin <<< KEY` (or `wg pubkey <<< KEY`). From the line's start, the first
 * command that has its form's flag before the next `|`, `;` or `&` (`<` for a here-string) takes
 * the first such flag, and the search goes on after what it took. That expression searched the
 * line to its end from each `wg set` (quadratic in a line of them); worked out once a line here
 * (session 37), each flag found once (its blank, the rest a look-ahead: none hides another).
 */
function wgKeys(text: string, at: number, marks: TextMarks): Set<number> {
  const start = marks.lastIndexOf('\n', at) + 1
  return marks.once(`wg-keys:${start}`, () => {
    const newline = marks.indexOf('\n', start)
    const line = text.slice(start, newline < 0 ? text.length : newline)
    // Each flag's blank, and where what it gives ends (the key's end; /dev/stdin's for a pipe into `wg set`).
    const flags = (source: string): { at: number[]; value: number[]; end: number[] } => {
      const found = { at: [] as number[], value: [] as number[], end: [] as number[] }
      const re = new RegExp(source, 'gd')
      for (let m = re.exec(line); m !== null; m = re.exec(line)) {
        const range = m.indices?.groups?.v as [number, number]
        found.at.push(m.index)
        found.value.push(range[0])
        found.end.push(range[1])
      }
      return found
    }
    const fromEcho = flags(String.raw`[ \t](?=(?:private|preshared)-key[ \t]+<\([ \t]*${WG_ECHO}(?<v>[A-Za-z0-9+/]{43}=))`)
    const hereString = flags(String.raw`[ \t](?=(?:private|preshared)-key[ \t]+\/dev\/stdin[ \t]*<<<[ \t]*(?:\\?["'])?(?<v>${WG_KEY}))`)
    const stdin = flags(String.raw`[ \t](?=(?<v>(?:private|preshared)-key[ \t]+\/dev\/stdin))`)
    const stops = (re: RegExp): number[] => [...line.matchAll(re)].map((m) => m.index as number)
    const pipeStops = stops(/[|;&]/g)
    const hereStops = stops(/[|;&<]/g)
    // The first flag at or after `from` and before the next stop, as [its value's start, the end of what it gives].
    const first = (of: { at: number[]; value: number[]; end: number[] }, stopsOf: number[], from: number): [number, number] | undefined => {
      const i = firstAtOrAfter(of.at, from)
      const stop = stopsOf[firstAtOrAfter(stopsOf, from)] ?? line.length
      return i < of.at.length && (of.at[i] as number) < stop ? [of.value[i] as number, of.end[i] as number] : undefined
    }
    const pubkey = new RegExp(String.raw`wg[ \t]+pubkey[ \t]*<<<[ \t]*(?:\\?["'])?(?<v>${WG_KEY})`, 'yd')
    const piped = new RegExp(String.raw`${WG_ECHO}(?<v>${WG_KEY})(?:\\?["'])?[ \t]*\|[ \t]*(?:sudo[ \t]+)?(?:\S*\/)?wg[ \t]+(?:(?<p>pubkey)|set\b)`, 'yd')
    const keys = new Set<number>()
    const commands = /\bwg[ \t]+(?:set\b|pubkey)|\b(?:echo|printf)/g
    for (let m = commands.exec(line); m !== null; m = commands.exec(line)) {
      let took: [number, number] | undefined
      if (m[0].endsWith('set')) {
        const from = m.index + m[0].length
        took = first(fromEcho, pipeStops, from) ?? first(hereString, hereStops, from)
      } else if (m[0].endsWith('pubkey')) {
        pubkey.lastIndex = m.index
        const key = pubkey.exec(line)?.indices?.groups?.v
        if (key !== undefined) took = [key[0], key[1]]
      } else {
        piped.lastIndex = m.index
        const pipe = piped.exec(line)
        const key = pipe?.indices?.groups?.v
        if (pipe != null && key !== undefined) {
          const end = pipe.index + pipe[0].length
          if (pipe.groups?.p !== undefined) took = [key[0], end]
          else {
            const to = first(stdin, pipeStops, end)
            if (to !== undefined) took = [key[0], to[1]]
          }
        }
      }
      if (took === undefined) continue
      keys.add(start + took[0])
      commands.lastIndex = Math.max(commands.lastIndex, took[1])
    }
    return keys
  })
}

/** A UUID in any case (a netdata API key, a healthchecks check). */
const UUID = String.raw`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`

const VALUE = String.raw`(?:"(?<v1>[^"\n]*)"|'(?<v2>[^'\n]*)'|(?<v3>[^\s"'#;,][^\s"';,]*))`

/**
 * VALUE, also in double quotes escaped as a JSON string escapes them: `"command": "export
 * RESTIC_PASSWORD=\\"…\\"; restic …"` (a crontab line in a provider's JSON document, session 20:
 * VALUE took the backslash alone, no value, and the password was mirrored). The same groups; a
 * value in plain quotes is taken as VALUE takes it. Session 21: also escaped twice, a JSON string
 * inside a JSON string (`\\\"password\\\": \\\"…\\\"`: three backslashes before each quote).
 */
const VALUE_OR_ESCAPED = String.raw`(?:(?<q>\\{0,3})"(?<v1>[^"\n]*?)\k<q>"|'(?<v2>[^'\n]*)'|(?<v3>[^\s"'#;,][^\s"';,]*))`

/**
 * Whether a key's opening quote is closed by the quote that opens the value (`"Password:" { send
 * "…" }`, `'pass: ' …'`): the key and its separator are one quoted string, and the "value" is
 * the text between two strings (session 22).
 */
function quoteClosesKey(g: Record<string, string | undefined>): boolean {
  const k = g.k ?? ''
  const open = k[0]
  if ((open !== '"' && open !== "'") || (k.length > 1 && k.endsWith(open))) return false
  return open === '"' ? g.v1 !== undefined && g.q === '' : g.v2 !== undefined
}

/** A line that is a directive and its one value, perhaps a comment after it. */
/**
 * nginx's directives that pass a request on (`proxy_pass http://127.0.0.1:8080;`, `fastcgi_pass
 * unix:/run/php/php-fpm.sock;`): an upstream's address, no credential (session 41: every reverse
 * proxy's site was held out; an address's `user:password@` is url-credentials').
 */
const NGINX_UPSTREAM = /^(?:proxy|fastcgi|uwsgi|scgi|grpc|memcached)_pass$/
/** An nginx directive's end: `;`, then blanks or a comment (a `proxy_pass VALUE` line of another syntax is still a credential's). */
const NGINX_END = /;[ \t]*(?:#[^\n]*)?\r?$/

const DIRECTIVE_LINE = new RegExp(String.raw`^[ \t]*\S+[ \t]+${VALUE}[ \t]*(?:[#;][^\n]*)?\r?$`)

/**
 * What follows a password command's key: the command echoing the password (the value `v`).
 * Case-insensitive, as the rule.
 */
const ECHO_TAIL = String.raw`\b(?:echo|printf)[ \t]+(?:-[neE]+[ \t]+)?(?:(?:"%s(?:\\n)?"|'%s(?:\\n)?'|%s(?:\\n)?)[ \t]+)?(?:\\?["'])?(?<v>[^\s"'\\;|&)]+)`

/**
 * The password-command rule (`ssl_passphrase_command = 'echo …'`). Speed and denial of service
 * (session 14): it was `\b[\w.-]*(?:pass(?:word|phrase)?|secret|token)[\w.-]*?(?:command|cmd|eval|exec)\b
 * …[^\n]*?\b(?:echo|printf)…`, quadratic three ways: a search from every word start of a long run
 * of `[\w.-]` (a `-` or `.` makes one of every word), each over the rest of the run; the key's
 * credential word and command word tried in pairs; and every key with no echo after it scanning
 * to its line's end. A 1.8 MB shared library (libunistring, as latin1: Unicode character names
 * `…-AA2A3AAABAC…`, one 159,015-character run on a 160 KB "line" holding `pass`) took 17.0 s in
 * this rule alone (the whole detector 6–27 s, by the load; a CPU profile put 5.3 of 6.1 s in this
 * expression and 0.1–0.3 s in secretlint's preset); a 64 KB journal line a user can write, with
 * an echo in it, 1.8–21.5 s (`pass` then `a-` × 32K: 21.5 s; `cmd.` × 16K after `pass`: 9.5 s;
 * Unicode-name-like words: 5.6 s; `passcmd.` × 8K: over 5 minutes, stopped). Now:
 * - a key starts only at its run's first word character (`(?<![\w.-])[.-]*\b`): from any later
 *   start in the same run the key could also have started there, and the rest does not depend on
 *   where it started, so a later start finds nothing the first did not;
 * - the first credential word, then the last command word after it, each taken once (a look-ahead
 *   and its back-reference: no backtracking into them). Such a pair exists exactly when the old
 *   (last credential word, first command word after it) does (no credential word holds another,
 *   `pass` stands first for `password`/`passphrase`), and the echo that follows is the same: an
 *   echo starts only at a word start and ends its run, so none starts between the two command
 *   words' ends within one run;
 * - each line is searched only up to the end of the last echo the tail matches at
 *   (`linesToLastEcho`): a key after that has no echo after it on its line and finds nothing,
 *   and every key before it finds one, so no search runs to a line's end in vain.
 * Findings the same as the old expression's (sdk/test/secrets.test.ts against it on the fixture
 * corpus and 24,000 random texts of its words; every file of the services root up to 4 MB). That
 * library now: the rule under 20 ms, the whole detector 0.27–0.36 s; those 64 KB lines 2–17 ms
 * each through the whole detector (load average 9.7).
 */
const PASSWORD_COMMAND = new RegExp(
  String.raw`(?<![\w.-])[.-]*\b(?=(?<c>[\w.-]*?(?:pass|secret|token)))\k<c>(?=(?<k>[\w.-]*(?:command|cmd|eval|exec)))\k<k>\b["']?[ \t]*[=:]?[ \t]*[^\n]*?` + ECHO_TAIL,
  'gi',
)

const ECHO_WORD = /\b(?:echo|printf)[ \t]/gi
const ECHO_AT = new RegExp(ECHO_TAIL, 'iy')

/** Each line of `part` up to the end of the last echo on it the rule's tail matches at (a line with none is left out). */
function linesToLastEcho(part: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = []
  let start = -1
  let lineEnd = -1
  let end = -1
  ECHO_WORD.lastIndex = 0
  for (let found = ECHO_WORD.exec(part); found !== null; found = ECHO_WORD.exec(part)) {
    if (found.index > lineEnd) {
      if (start >= 0 && end > start) ranges.push([start, end])
      start = part.lastIndexOf('\n', found.index) + 1
      const next = part.indexOf('\n', found.index)
      lineEnd = next < 0 ? part.length : next
      end = -1
    }
    ECHO_AT.lastIndex = found.index
    const tail = ECHO_AT.exec(part)
    if (tail !== null) end = Math.max(end, found.index + tail[0].length)
  }
  if (start >= 0 && end > start) ranges.push([start, end])
  return ranges
}

/**
 * A Mailchimp key's end, `-us` and its data centre's first digit (the provider-token rule's
 * `[0-9a-f]{32}-us\d{1,2}`). Speed (issue 22, session 52): the word was `-us` until then, which
 * every `multi-user.target` and `systemd-user-sessions.service` holds: a first snapshot of the
 * minbase root ran the rule (its search compiled to machine code, 1.4 M instructions, callgrind)
 * on 11 names and lines of that kind and on nothing else.
 */
const MAILCHIMP_DATA_CENTRES = ['-us0', '-us1', '-us2', '-us3', '-us4', '-us5', '-us6', '-us7', '-us8', '-us9']

/**
 * What a PEM block that holds a private key is labelled, after BEGIN and END: `RSA PRIVATE KEY`,
 * `ENCRYPTED PRIVATE KEY`, PGP's `PRIVATE KEY BLOCK`, OpenVPN's static keys (tls-auth, tls-crypt:
 * `OpenVPN Static key V1`) and its tls-crypt-v2 keys (session 15: `OpenVPN tls-crypt-v2 client
 * key`, `… server key`). One definition for every private-key rule: the key itself, one cut off
 * at its start, and one base64-encoded once more.
 */
const KEY_LABEL = String.raw`(?:(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?|OpenVPN (?:Static key V\d|tls-crypt-v2 (?:client|server) key))`

/** Words every KEY_LABEL holds one of (the rules' prefilter; a base64-wrapped key's decoded start). */
const KEY_LABEL_WORDS: readonly string[] = ['PRIVATE KEY', 'OpenVPN Static key', 'OpenVPN tls-crypt-v2']

/**
 * The tools of the command-line-flag rule, one in each of its alternatives (the container tools
 * before their `login`): a match lies on one line (`[^\n|;&]`, VALUE) and holds its tool, so the
 * rule is run only on the lines holding a flag (`needs`) that also hold a tool (`within`). Speed
 * (issue 22, session 45): its expression (823 characters), the costliest of the hand rules to
 * compile, was compiled in a first snapshot of the minbase root for 12 texts holding `login` or
 * `zip` (its `hint`) and a flag on some line (login.defs, bash.bashrc, PAM's stacks), none a line
 * with a tool and a flag; now for none (logind.conf's `systemd/logind.conf` was why the container
 * tools stand here, not `login`). With glob.ts's PathPatterns (session 45): `snapshot --init` of
 * the minbase root, V8's regular-expression compiler 104.6 → 95.3 M instructions (callgrind); the
 * whole run in docs/architecture.md's Speed table.
 */
const TOOL_LINES: RuleNeeds = { words: ['redis-cli', 'mongo', 'mosquitto_', 'ldap', 'zip', 'docker', 'podman', 'nerdctl', 'buildah', 'skopeo', '7z', 'ssh-keygen', 'sqlcmd', 'bcp'], lines: true }

/**
 * The rules, made when first asked for (`allHandRules`): V8 parses a regular expression literal's
 * pattern when the literal is first evaluated, these rules' patterns (60 in session 15, 72 after session 18) (and their `accept`
 * checks' expressions) among the longest there are, and a command that screens nothing (an
 * unchanged snapshot, `plan`, `status`) loads this module with the SDK's index all the same.
 * Speed (issue 22, session 15): an unchanged snapshot of the minbase root 382.9 → 376.8 M
 * instructions (callgrind, V8's hash-seed work left out, medians of 5); the rules are the same
 * objects for every screen of the process (`sdk/test/secret-rules-made.test.ts`).
 */
const makeHandRules = (): readonly HandRule[] => [
  {
    id: 'private-key',
    description: 'private key',
    // Also OpenVPN's static keys (tls-auth, tls-crypt): `-----BEGIN OpenVPN Static key V1-----`,
    // and its tls-crypt-v2 keys (session 15): `-----BEGIN OpenVPN tls-crypt-v2 client key-----`
    // (inline in a client's config as `<tls-crypt-v2>`), `… server key-----`.
    pattern: new RegExp(String.raw`-{4,5} ?BEGIN ${KEY_LABEL} ?-{4,5}(?:\\n|\s)*(?<v>[\s\S]*?)(?:-{4,5} ?END ${KEY_LABEL} ?-{4,5}|$)`, 'g'),
    needs: { words: [...KEY_LABEL_WORDS] },
  },
  {
    id: 'private-key',
    description: 'GnuPG private key',
    // Session 34: gpg-agent's key files (~/.gnupg/private-keys-v1.d/KEYGRIP.key): `Key: (private-key
    // (ecc (curve Ed25519)…(d #…#)))` unprotected (a server's signing key made without a
    // passphrase), `(protected-private-key …)` under one (still the key, as an SSH key with a
    // passphrase is), the item's continuation lines too; the older canonical `(11:private-key(3:rsa`.
    // Not a smartcard's stub (`shadowed-private-key`), nor prose that names the word.
    pattern: /(?<![\w-])\((?:\d+:)?(?<v>(?:protected-)?private-key[ \t\r\n]*\((?:\d+:)?(?:rsa|dsa|ecc|elg|ecdsa|eddsa)\b[^\n]*(?:\r?\n[ \t][^\n]*)*)/g,
    needs: { words: ['private-key'] },
  },
  {
    id: 'private-key',
    description: 'private key cut off at its start',
    // A text that begins inside a key: a log's kept tail whose BEGIN line scrolled out, a part
    // of a file. From the text's start (no BEGIN on the way) to the key's END.
    pattern: new RegExp(String.raw`^(?<v>(?:(?!-{4,5} ?BEGIN )[\s\S])*?)-{4,5} ?END ${KEY_LABEL} ?-{4,5}`, 'g'),
    hint: [...KEY_LABEL_WORDS],
  },
  {
    id: 'private-key',
    description: 'PuTTY private key',
    pattern: /^Private-Lines: \d+\r?\n(?<v>(?:[A-Za-z0-9+/=]+\r?\n?)+)/gm,
    needs: { words: ['Private-Lines: '] },
  },
  {
    id: 'aws-access-key',
    description: 'AWS access key id',
    pattern: /\b(?<v>(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[0-9A-Z]{16})\b/g,
    needs: { words: ['AKIA', 'ASIA', 'ABIA', 'ACCA', 'A3T'] },
  },
  { id: 'private-key', description: 'age secret key', pattern: /\b(?<v>AGE-SECRET-KEY-1[0-9A-Z]{20,})/g, needs: { words: ['AGE-SECRET-KEY-1'] } },
  {
    id: 'jwt',
    description: 'JSON web token',
    // Speed and denial of service (session 37): a start that fails takes its run of the token's
    // characters with it (the second alternative, no finding), so the search goes on past the run,
    // not from each later `eyJ` in it: every later start in the same run ends its first part where
    // the first did (at the run's end, the class holds no `.`) and fails as it did. It was
    // quadratic: 64 KB of `eyJJe-e-y0-` took 3 s, 256 KB 56 s (1 MB some 15 minutes); now 1 MB in
    // milliseconds, the same findings (sdk/test/secret-rules-linear.test.ts).
    pattern: /\b(?:(?<v>eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})|eyJ[A-Za-z0-9_-]*)/g,
    needs: { words: ['eyJ'] },
    accept: (g) => g.v !== undefined,
  },
  {
    id: 'azure-key',
    description: 'Azure storage or service bus key',
    pattern: /\b(?:AccountKey|SharedAccessKey|SharedAccessSignature)=(?<v>[A-Za-z0-9+/%]{20,}(?:={0,2}|(?:%3D){0,2}))/gi,
    needs: { words: ['AccountKey=', 'SharedAccessKey=', 'SharedAccessSignature='], caseless: true },
  },
  { id: 'azure-key', description: 'Azure SAS signature', pattern: /[?&]sig=(?<v>[A-Za-z0-9%+/]{20,}(?:%3D|=){0,2})/g, needs: { words: ['sig='] } },
  {
    id: 'gcp-service-account',
    description: 'GCP service account key id',
    pattern: /"private_key_id"\s*:\s*"(?<v>[0-9a-f]{16,})"/g,
    needs: { words: ['"private_key_id"'] },
  },
  {
    id: 'url-credentials',
    description: 'URL with a password',
    pattern: /\b[A-Za-z][A-Za-z0-9+.-]{1,20}:\/\/[^\s:/@'"<>]*:(?<v>[^\s@/'"<>]+)@[^\s@'"<>]/g,
    needs: { words: ['://'], lines: true },
    accept: (g) => isValue(g.v),
  },
  { id: 'netrc', description: '.netrc password', file: /^[._]?netrc$/, pattern: /\bpassword\s+(?<v>\S+)/g },
  {
    id: 'netrc',
    description: '.netrc password',
    pattern: /\bmachine\s+\S+\s+login\s+\S+\s+password\s+(?<v>\S+)/g,
    needs: { words: ['machine'] },
  },
  {
    id: 'pgpass',
    description: '.pgpass password',
    pattern: /^[^:\s#][^:\s]*:(?:\d{1,5}|\*):[^:\s]+:[^:\s]+:(?<v>(?:[^:\s\\]|\\.)+)$/gm,
  },
  {
    id: 'docker-auth',
    description: 'Docker registry credentials',
    pattern: /"(?<k>auth|identitytoken|registrytoken)"\s*:\s*"(?<v>[A-Za-z0-9+/=._-]{8,})"/g,
    needs: { words: ['"auth"', 'token"'] },
    // `auth` is base64 of "user:password"; the token keys are secrets whatever they hold.
    accept: (g) => g.k !== 'auth' || Buffer.from(g.v ?? '', 'base64').toString('latin1').includes(':'),
  },
  {
    id: 'kubeconfig',
    description: 'kubeconfig client key or token',
    pattern: /^[ \t]*(?:client-key-data|token|id-token|refresh-token|client-secret)[ \t]*:[ \t]*"?(?<v>[^\s"]{8,})/gm,
    needs: { words: ['client-key-data', 'token', 'client-secret'], lines: true },
    accept: (g) => isValue(g.v),
  },
  {
    id: 'password-hash',
    description: 'password hash',
    pattern:
      /^[^:\s#]+:(?<v>(?:\$(?:1|2[abxy]?|5|6|y|gy|7|apr1|sha1|md5|argon2(?:id|i|d)?|pbkdf2[-a-z0-9]*|scrypt)\$[^:\s]{8,}|\{(?:SHA|SSHA|SHA256|SSHA256|SHA512|SSHA512|CRYPT|MD5|SMD5)\}[^:\s]{8,}|\{PLAIN\}[^:\s]+|\{[A-Z][A-Z0-9-]{1,24}(?:\.[a-zA-Z0-9]+)?\}[^:\s]{8,})|(?<des>[./0-9A-Za-z]{13})\r?$)/gm,
    // `{PLAIN}`: nginx's auth_basic_user_file also takes a password in the clear. Any other
    // `{SCHEME}` too: Dovecot's passwd-file (`{SHA512-CRYPT}$6$…`, `{CRAM-MD5}…`, `{BLF-CRYPT}…`).
    // A DES crypt hash alone on the line, as htpasswd writes it, in a file of any name
    // (`auth_basic_user_file /etc/nginx/.users;`, `AuthUserFile /etc/apache2/passwords`): only a
    // value that reads as a hash, with two of lower case, upper case and digits or `./` in it,
    // not a capitalised word (`Name:Administrator`). One rule with the others: one pass a text.
    accept: (g) => {
      if (g.des === undefined) return true
      const classes = [/[a-z]/, /[A-Z]/, /[0-9./]/].filter((c) => c.test(g.des as string)).length
      return classes >= 2 && !/^[A-Z][a-z]+$/.test(g.des)
    },
  },
  {
    id: 'password-hash',
    description: 'password hash',
    // A crypt(3) hash wherever it stands (not only after `user:`): a Dovecot scheme prefix, a
    // `useradd -p '$6$…'` command line, Syncthing's `<password>$2a$…</password>`, cloud-init's
    // `passwd:`. SHA-crypt (with rounds), MD5-crypt, bcrypt, yescrypt, PostgreSQL's SCRAM
    // verifier (pgbouncer's userlist.txt, a dump of pg_authid).
    pattern:
      /(?<![\w$])(?<v>\$(?:1|5|6|apr1)\$(?:rounds=\d+\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{22,86}|\$2[abxy]?\$\d\d\$[./0-9A-Za-z]{53}|\$(?:y|gy|7)\$[./0-9A-Za-z]+\$[./0-9A-Za-z]{0,86}\$[./0-9A-Za-z]{43}|SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]{8,}\$[A-Za-z0-9+/=]{20,}:[A-Za-z0-9+/=]{20,}|\$argon2(?:id|i|d)\$(?:v=\d+\$)?m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/.=-]{8,}\$[A-Za-z0-9+/.=-]{16,}|(?:\$pbkdf2(?:-sha\d+)?\$|pbkdf2_sha(?:1|256|512)\$)\d+\$[A-Za-z0-9+/.=-]{4,}\$[A-Za-z0-9+/.=-]{20,}|\$BALLOON-SHA256\$v=\d+\$s=\d+,t=\d+\$[A-Za-z0-9+/=]{8,}\$[A-Za-z0-9+/=]{16,}|-(?:pbkdf2(?::sha\d+)?|hashed)-[0-9a-f]{40,},[0-9a-f]{32}(?:,\d+)?(?![\w,]))/g,
    // Session 18: Argon2 (`$argon2id$v=19$m=…`: Jupyter's, Vaultwarden's admin token, Authelia's
    // users) and PBKDF2 as passlib (`$pbkdf2-sha256$…`) and Django (`pbkdf2_sha256$…`) write it.
    // Session 31: Pi-hole 6's Balloon hash (`pwhash = "$BALLOON-SHA256$v=1$s=1024,t=32$…"`) and CouchDB's
    // admins' hashes (`-pbkdf2-<hex>,<salt>,<iterations>`, `-pbkdf2:sha256-…`, 1.x's `-hashed-<hex>,<salt>`).
    hint: ['$1$', '$5$', '$6$', '$apr1$', '$2', '$y$', '$gy$', '$7$', 'SCRAM-SHA-256$', '$argon2', '$pbkdf2', 'pbkdf2_sha', '$BALLOON-', '-pbkdf2', '-hashed-'],
  },
  { id: 'password-hash', description: 'htdigest password hash', pattern: /^[^:\s#]+:[^:\n]*:(?<v>[0-9a-f]{32})$/gm },
  {
    id: 'password-hash',
    description: 'htpasswd password hash',
    file: /htpasswd|htdigest/i,
    pattern: /^[^:\s#]+:(?<v>[./0-9A-Za-z]{13})$/gm,
  },
  {
    id: 'sasl-passwd',
    description: 'SMTP relay password',
    file: /sasl[_-]?passw(?:or)?d/i,
    pattern: /^[ \t]*[^\s#]\S*[ \t]+[^\s:]+:(?<v>\S+)[ \t]*$/gm,
  },
  {
    id: 'sasl-passwd',
    description: 'SMTP relay password',
    pattern: /^[ \t]*\[[A-Za-z0-9.-]+\](?::\d+)?[ \t]+[^\s:]+:(?<v>\S+)[ \t]*$/gm,
    needs: { words: ['['], lines: true },
  },
  {
    id: 'sasl-passwd',
    description: 'SMTP relay password',
    // The same line quoted by a program (postfix check: `missing '=' after attribute name:
    // "relayhost [smtp.example.com]:587 user:password"`), or after relayhost in main.cf.
    pattern: /(?:\[[A-Za-z0-9.-]+\](?::\d+)?|\brelayhost[ \t]*=?[ \t]*\S+)[ \t]+[^\s:"'\[]+:(?<v>[^\s"']+)/g,
    needs: { words: ['[', 'relayhost'], lines: true },
  },
  {
    id: 'sasl-passwd',
    description: 'SMTP relay password in a static map',
    // smtp_sasl_password_maps = static:user:password, also as postconf quotes it
    // (`unused parameter: smtp_sasl_pasword_maps=static:user:password`: a misspelt name too).
    pattern: /\b[\w-]*(?:pass|pasw|pwd|secret)[\w-]*(?:[ \t]*=[ \t]*|[ \t]+)static:[^\s:"',]+:(?<v>[^\s"',]+)/gi,
    needs: { words: ['static:'], caseless: true, lines: true },
  },
  {
    id: 'authorization-header',
    description: 'Authorization header',
    // Also set by a server's directive for an upstream, without `:` (`proxy_set_header
    // Authorization "Basic …";`, `RequestHeader set Authorization "Bearer …"`): then only with a
    // scheme, as prose says "Authorization required".
    // Also a quoted key, as a JSON log or a language's dump of headers writes it: `"authorization":"Basic …"`.
    pattern:
      /\b(?:Proxy-)?Authorization(?:["']?\s*[:=]\s*["']?(?:(?:Bearer|Basic|Token|Digest|Negotiate)\s+)?|[ \t]+["']?(?:Bearer|Basic|Token|Digest|Negotiate)[ \t]+)(?<v>[A-Za-z0-9._~+/=-]{12,})/gi,
    needs: { words: ['Authorization'], caseless: true },
  },
  {
    id: 'authorization-header',
    description: 'cookie header',
    // A session cookie is a login: `Cookie: sessionid=…`, `Set-Cookie: sid=…; Path=/` on a log line.
    pattern: /\b(?:Set-)?Cookie["']?\s*:\s*["']?(?<v>[^\s;=:"']+=[^\s;"']{8,}(?:;[ \t]*[^\s;=:"']+=[^\s;"']*)*)/gi,
    hint: ['cookie'],
  },
  {
    id: 'chat-token',
    description: 'Telegram bot token',
    // A bot's token (`123456789:AA…`, 35 characters after the colon), in a script's
    // `https://api.telegram.org/bot<token>/sendMessage` or assigned anywhere (session 17: a
    // notify script under /usr/local/bin was mirrored whole). secretlint's preset knows none.
    pattern: /(?<![\w-])(?<v>\d{8,10}:AA[0-9A-Za-z_-]{33})(?![\w-])|api\.telegram\.org\/bot(?<v1>\d{5,12}:[0-9A-Za-z_-]{30,})/g,
    needs: { words: [':AA', 'api.telegram.org/bot'] },
  },
  {
    id: 'chat-token',
    description: 'Discord webhook token',
    // `https://discord.com/api/webhooks/<id>/<token>`: anyone with the URL posts to the channel
    // (Slack's webhooks are the preset's).
    pattern: /\bdiscord(?:app)?\.com\/api\/webhooks\/\d{5,25}\/(?<v>[0-9A-Za-z_-]{40,})/g,
    needs: { words: ['/api/webhooks/'] },
  },
  {
    id: 'authorization-header',
    description: 'bearer token',
    // Session 22: a shorter token (16 to 19 characters) when it looks like one (a log's bare `Bearer …`).
    pattern: /\bBearer\s+(?<v>[A-Za-z0-9._~+/-]{16,}=*)/g,
    needs: { words: ['Bearer'] },
    accept: (g) => (g.v?.length ?? 0) >= 20 || looksLikeToken(g.v),
  },
  {
    id: 'credential-assignment',
    description: 'credential assigned in configuration',
    // nsswitch.conf's `passwd: files systemd` names a database, not a password.
    // A key and a value in quotes JSON escaped (`\"password\":\"…\"`, `PASSWORD=\"…\"`) too (session 20),
    // and escaped twice (`\\\"password\\\": \\\"…\\\"`, session 21).
    notFile: /^nsswitch\.conf$/,
    pattern: new RegExp(String.raw`(?<![\w.-])(?<k>["']?[A-Za-z0-9_.$@-]{1,64}["']?)(?:\\{1,3}["'])?[ \t]*(?::=|=>|:|=)[ \t]*${VALUE_OR_ESCAPED}`, 'g'),
    // A match is on one line (no `\n` in a key, a separator or a value; the look-behind sees one
    // character, and a line end is no `[\w.-]`) and its key holds a credential word when kept.
    needs: { words: KEY_WORDS, caseless: true, lines: true },
    accept: (g) => {
      const value = g.v1 ?? g.v2 ?? g.v3
      // `SetCredential=NAME:` with nothing after the name sets an empty credential (session 21);
      // a value after it is the systemd credential rule's.
      if (/^SetCredential(?:Encrypted)?$/.test(g.k ?? '') && /^[^\s:]+:$/.test(value ?? '')) return false
      // A quoted string that ends in the separator (expect's `"Password:" { send "…" }`, `"password: "`):
      // the quote after it closes the key's, and what follows is no value (session 22).
      if (quoteClosesKey(g)) return false
      return (isCredentialKey(g.k ?? '') && isValue(value)) || (isTokenKey(g.k ?? '') && looksLikeToken(value))
    },
    searchValue: true,
  },
  {
    id: 'credential-assignment',
    description: 'credential named in a name and value pair',
    // Session 45: a variable written as a pair of fields, its name in one and its value in the next
    // (either order): the cron provider's environment document holds a crontab's
    // `PGPASSWORD=…` as `{"name": "PGPASSWORD", "value": "…"}` (the rule above sees a key `name`,
    // `value`), a Kubernetes or compose env list `- name: DB_PASSWORD` / `value: …` in YAML.
    // Over lines, so searched in the whole text that holds a key word.
    // Other scalar fields may lie between them (up to 8: the cron document's keys are sorted,
    // `"line"`, `"name"`, `"source"`, `"value"`).
    pattern: new RegExp(
      String.raw`"(?:name|key)"[ \t]*:[ \t]*"(?<k>[A-Za-z0-9_.$@-]{1,64})"${PAIR_BETWEEN}"value"[ \t]*:[ \t]*"(?<v>(?:[^"\\\r\n]|\\.)+)"` +
        String.raw`|"value"[ \t]*:[ \t]*"(?<v1>(?:[^"\\\r\n]|\\.)+)"${PAIR_BETWEEN}"(?:name|key)"[ \t]*:[ \t]*"(?<k2>[A-Za-z0-9_.$@-]{1,64})"` +
        String.raw`|^(?<i>[ \t]*)-[ \t]+name:[ \t]*["']?(?<k3>[A-Za-z0-9_.$@-]{1,64})["']?[ \t]*\r?\n\k<i>[ \t]+value:[ \t]*(?:"(?<v2>(?:[^"\\\r\n]|\\.)+)"|(?<v3>[^\s"[{#|>&*!][^\r\n]*?))[ \t]*\r?$`,
      'gm',
    ),
    needs: { words: KEY_WORDS, caseless: true },
    accept: (g) => {
      const key = g.k ?? g.k2 ?? g.k3 ?? ''
      const value = g.v ?? g.v1 ?? g.v2 ?? g.v3
      return (isCredentialKey(key) && isValue(value)) || (isTokenKey(key) && looksLikeToken(value))
    },
  },
  {
    id: 'command-line-flag',
    description: 'credential on a command line',
    // The value is looked ahead at, not taken: a flag turned away (`gpg --batch --passphrase …`)
    // leaves the next flag to be searched from its start.
    pattern: new RegExp(String.raw`(?:^|\s)(?<k>--?[A-Za-z0-9][A-Za-z0-9_.-]{0,63})(?=[ \t]+${VALUE_OR_ESCAPED})`, 'gm'),
    // A flag and its value are on one line: a match that takes in the line end before the flag (as
    // its `\s`) is, on that line alone, the same flag after `^`.
    needs: { words: KEY_WORDS, caseless: true, lines: true },
    // `--password PASSWORD`, `--token <token>` in usage lines are placeholders, not values.
    accept: (g) =>
      isCredentialKey(g.k ?? '') &&
      !/^-|^[A-Z][A-Z0-9_]*$|^\[.*\]$/.test(g.v1 ?? g.v2 ?? g.v3 ?? '') &&
      isValue(g.v1 ?? g.v2 ?? g.v3),
  },
  {
    id: 'command-line-flag',
    description: 'MySQL password on a command line',
    // Also quoted: `-p"…"`, `-p'…'`. And MariaDB's names (session 20: Debian 13's `mariadb-dump`,
    // `mariadb`, `mariadb-admin`, `mariadb-backup`: `\b` ends `mariadb` before their `-`).
    pattern: /\b(?:mysql|mariadb)(?:dump|admin|import|check|show|slap)?\b[^\n]*?\s-p(?:"(?<v1>[^"\n]+)"|'(?<v2>[^'\n]+)'|(?<v>[^\s'"]\S*))/g,
    needs: { words: ['mysql', 'mariadb'] },
  },
  {
    id: 'command-line-flag',
    description: 'user and password on a command line',
    // curl's `-u user:password` (also `-uuser:…`, `--user`, `--proxy-user`, `-U`); without a `:` curl asks for it.
    pattern: /\bcurl\b[^\n]*?\s(?:-u|-U|--user|--proxy-user)(?:[ \t]+|=)?["']?[^\s:"']*:(?<v>[^\s"']+)/g,
    accept: (g) => isValue(g.v),
    hint: ['curl'],
    needs: { words: ['-u', '-U', '--user', '--proxy-user'] },
  },
  {
    id: 'command-line-flag',
    description: 'password on a command line',
    // sshpass -p PASSWORD; openssl's -passin/-passout pass:PASSWORD.
    pattern: /\bsshpass\b[^\n]*?\s-p[ \t]*(?:"(?<v1>[^"\n]+)"|'(?<v2>[^'\n]+)'|(?<v3>[^\s"']+))|\s-pass(?:in|out)[ \t]+["']?pass:(?<v>[^\s"']+)/g,
    hint: ['sshpass', '-pass'],
    needs: { words: ['sshpass', '-passin', '-passout'] },
  },
  {
    id: 'credential-assignment',
    description: 'credential directive',
    // One pass for every line-start directive that takes a credential without `=`:
    // - a server's directive setting a variable or header whose name `k` names a credential:
    //   nginx's `fastcgi_param DB_PASSWORD …;` and `proxy_set_header X-Api-Key …;`, Apache's
    //   `SetEnv` and `RequestHeader set`, HAProxy's `http-request set-header`;
    // - a directive that is a credential: redis, bitcoind, ifupdown's wpa-* and WEP `wireless-key` (session 31), nslcd's `bindpw`,
    //   keepalived's `auth_pass`, snmpd's communities (not the well-known `public`), BIND's key
    //   `secret "…";`; not a bare `password`: PAM's stacks begin their lines with it;
    // - HAProxy's `user NAME [insecure-]password …`; Redis Sentinel's `sentinel auth-pass MASTER …`;
    // - any directive `c` whose name names a credential, alone on its line with its value:
    //   Apache's `AuthLDAPBindPassword …`, pure-ftpd's `MYSQLPassword …`; only a name of more than
    //   the bare word (`password VALUE` lines have their own rule: PAM's stacks begin with it).
    pattern: new RegExp(
      String.raw`^[ \t]*(?:(?:(?:proxy|grpc)_set_header|add_header|(?:fastcgi|uwsgi|scgi)_param|SetEnv|(?:Request)?Header[ \t]+(?:set|append|add|merge|setifempty)|http-(?:request|response)[ \t]+(?:set|add)-header)[ \t]+(?<k>[A-Za-z0-9_.-]{1,64})|(?<d>requirepass|masterauth|masterpass|rpcpassword|wpa-psk|wpa-password|wireless-key[1-4]?|(?:root)?bindpw|auth_pass|(?:ro|rw)community6?|community|secret)|(?<u>user)[ \t]+\S+[ \t]+(?:insecure-)?password|(?<s>sentinel)[ \t]+(?:auth-pass[ \t]+\S+|sentinel-pass)|(?<c>[A-Za-z][A-Za-z0-9_.-]{2,63}))[ \t]+${VALUE}`,
      'gim',
    ),
    // Every directive it keeps names a credential key or is one of those named above (`bindpw`
    // and `community` are the two that hold no credential word), on one line.
    needs: { words: [...KEY_WORDS, 'bindpw', 'community'], caseless: true, lines: true },
    accept: (g, text, at) => {
      const value = g.v1 ?? g.v2 ?? g.v3
      if (!isValue(value)) return false
      if (g.k !== undefined) return isCredentialKey(g.k)
      // The directive words as written (the expression ignores case for Apache's and HAProxy's).
      // sudo-ldap.conf's and ldap.conf's keys are any case: `BINDPW` as its manual writes it (session 33).
      if (g.d !== undefined) return (g.d === g.d.toLowerCase() || g.d === 'BINDPW' || g.d === 'ROOTBINDPW') && value !== 'public'
      if (g.s !== undefined) return g.s === 'sentinel'
      if (g.c !== undefined) {
        if (CREDENTIAL_WORDS.some((w) => w === g.c?.toLowerCase()) || !isCredentialKey(g.c)) return false
        const end = text.indexOf('\n', at)
        const line = text.slice(at, end < 0 ? text.length : end)
        return DIRECTIVE_LINE.test(line) && !(NGINX_UPSTREAM.test(g.c) && NGINX_END.test(line))
      }
      return g.u === 'user'
    },
  },
  {
    id: 'credential-assignment',
    description: 'PostgreSQL authentication option',
    // Session 42: pg_hba.conf's LDAP bind password and RADIUS shared secrets, options of a line's
    // method (`ldap … ldapbindpasswd=…`, `radius radiusservers=… radiussecrets="a,b"`): one word
    // of a name, which the credential-assignment rule's key words do not split; mirrored in the
    // clear before (/etc/postgresql/*/main/pg_hba.conf is the postgres user's, 0640). `NAME=VALUE`
    // as one word (the file's words are split at blanks: `ldapbindpasswd= x` sets none).
    pattern: new RegExp(String.raw`(?<![\w-])(?:ldapbindpasswd|radiussecrets?)=${VALUE}`, 'g'),
    needs: { words: ['ldapbindpasswd', 'radiussecret'], lines: true },
    accept: (g) => isValue(g.v1 ?? g.v2 ?? g.v3),
  },
  {
    id: 'credential-assignment',
    description: 'msmtp password',
    file: /^\.?msmtprc$/,
    pattern: new RegExp(String.raw`^[ \t]*password[ \t]+${VALUE}`, 'gm'),
    accept: (g) => isValue(g.v1 ?? g.v2 ?? g.v3),
  },
  {
    id: 'credential-assignment',
    description: 'IPsec shared secret',
    // strongSwan/Libreswan ipsec.secrets: `[ids] : PSK "…"` (EAP, XAUTH and NTLM secrets alike).
    pattern: new RegExp(String.raw`(?<!\S):[ \t]*(?:PSK|EAP|XAUTH|NTLM)[ \t]+${VALUE}`, 'g'),
    hint: ['PSK', 'EAP', 'XAUTH', 'NTLM'],
    accept: (g) => isValue(g.v1 ?? g.v2 ?? g.v3),
  },
  {
    id: 'private-key',
    description: 'private key in base64',
    // A PEM key base64-encoded once more: a Kubernetes Secret's `tls.key: LS0tLS1CRUdJTi…`, Helm
    // values, a kubeconfig under another key. "-----BEGIN " always encodes to LS0tLS1CRUdJTi; what
    // it begins is known only decoded (a certificate is public). Lines a YAML block scalar or a
    // wrapped value continue it with are the key too.
    pattern: /\b(?<v>LS0tLS1CRUdJTi[A-Za-z0-9+/]{16,}={0,2}(?:\r?\n[ \t]*[A-Za-z0-9+/]{16,}={0,2})*)/g,
    hint: ['LS0tLS1CRUdJTi'],
    accept: (g) => {
      const decoded = Buffer.from((g.v ?? '').replace(/\s+/g, '').slice(0, 120), 'base64').toString('latin1')
      return KEY_LABEL_WORDS.some((word) => decoded.includes(word))
    },
  },
  {
    id: 'command-line-flag',
    description: 'password flag of a known tool',
    // Tools whose password flag is a short one no name says is a password: redis-cli -a, the
    // mongo tools' -p, mosquitto's -P, the OpenLDAP tools' -w (bind password), zip -P, 7-Zip's
    // -pPASSWORD, docker/podman login -p; unzip -P (session 18). Within one command (not past a pipe or `;`).
    // Session 29: ssh-keygen's -N (new passphrase) and -P (old), SQL Server's sqlcmd and bcp -P.
    // Each tool's own flags in its alternative, so that another flag before it is passed over: before,
    // `redis-cli -h … -p 6379 -a …` (the port's -p taken and turned away), `mosquitto_pub -p 1883 … -P
    // …` and `ldapsearch -p 389 -w …` kept their passwords.
    pattern: new RegExp(
      String.raw`\b(?:redis-cli\b[^\n|;&]*?[ \t](?:-a|--pass)|mongo(?:sh|dump|restore|export|import|stat|top|files)?\b[^\n|;&]*?[ \t]-p|mosquitto_(?:pub|sub|rr)\b[^\n|;&]*?[ \t](?:-P|--pw)|ldap(?:search|add|modify|delete|passwd|compare|modrdn|whoami|exop|url)\b[^\n|;&]*?[ \t]-w|(?:(?:un)?zip|zipcloak|sqlcmd|bcp)\b[^\n|;&]*?[ \t]-P|(?:docker|podman|nerdctl|buildah|skopeo)[ \t]+login\b[^\n|;&]*?[ \t]-p|ssh-keygen\b[^\n|;&]*?[ \t]-[NP]|(?:redis-cli|mongo(?:sh|dump|restore|export|import|stat|top|files)?|mosquitto_(?:pub|sub|rr)|ldap(?:search|add|modify|delete|passwd|compare|modrdn|whoami|exop|url)|(?:un)?zip|zipcloak|(?:docker|podman|nerdctl|buildah|skopeo)[ \t]+login|sqlcmd|bcp)\b[^\n|;&]*?[ \t]--password)(?:[ \t]+|=)${VALUE}|\b7z[ar]?\b[^\n|;&]*?[ \t]-p(?<v>[^\s"'-][^\s"']*)`,
      'g',
    ),
    hint: ['redis-cli', 'mongo', 'mosquitto_', 'ldap', 'zip', 'login', '7z', 'ssh-keygen', 'sqlcmd', 'bcp'],
    needs: { words: ['-a', '--pass', '-p', '-P', '--pw', '-w', '-N', '--password'], lines: true },
    within: (part) => partsToSearch(part, TOOL_LINES),
    accept: (g) => {
      if (g.v !== undefined) return isValue(g.v)
      const value = g.v1 ?? g.v2 ?? g.v3
      return isValue(value) && value?.startsWith('-') !== true
    },
  },
  {
    id: 'credential-assignment',
    description: 'user and password under an auth key',
    // Session 29: Elastic Beats' `cloud.auth: "elastic:…"` (filebeat.yml, metricbeat.yml as Elastic
    // Cloud's guide writes them): a key ending in `auth` after a separator whose value is
    // `user:password` (not a URL, not a port).
    pattern: /(?<![\w.-])["']?[A-Za-z0-9_.-]{0,60}[._-]auth["']?[ \t]*[:=][ \t]*["']?[^\s:"'\/@=]+:(?<v>[^\s"'\/][^\s"']*)/gi,
    needs: { words: ['auth'], caseless: true, lines: true },
    // Not a port, nor a word in capitals (a mechanism: `PLAIN:LOGIN`).
    accept: (g) => isValue(g.v) && !/^(?:\d+|[A-Z][A-Z0-9_-]*)$/.test(g.v ?? ''),
  },
  {
    id: 'credential-assignment',
    description: 'sendmail AuthInfo password',
    // Session 29: sendmail's /etc/mail/authinfo (`AuthInfo:HOST "U:user" "P:password" "M:PLAIN"`).
    // Speed (session 37): a later `AuthInfo:` on the line finds only what this one would have, so a
    // start that fails takes its line with it (16 KB of `AuthInfo:` took 40 ms, 64 KB 0.7 s).
    pattern: /\bAuthInfo:(?:[^\n]*?(?<q>["'])P[:=](?<v>[^"'\n]+)\k<q>|[^\n]*)/g,
    needs: { words: ['AuthInfo:'], lines: true },
    accept: (g) => isValue(g.v),
  },
  {
    id: 'sasl-passwd',
    description: 'SMTP relay password in an inline map',
    // Session 29: postfix's inline table (3.0 and later) as the password map, in main.cf:
    // `smtp_sasl_password_maps = inline:{ [smtp.example.org]:587=user:password }`: the whole table.
    pattern: /\b[\w-]*(?:pass|pasw|pwd|secret)[\w-]*[ \t]*=[ \t]*inline:\{(?<v>[^\n]*?[^\s}])[ \t]*\}[ \t}]*$/gim,
    needs: { words: ['inline:'], caseless: true, lines: true },
    accept: (g) => (g.v ?? '').includes(':'),
  },
  {
    id: 'credential-assignment',
    description: 'shell variable set without =',
    // Session 29: fish's `set -gx DB_PASSWORD …`, `set -Ux GITLAB_TOKEN '…'` (~/.config/fish, in
    // the default include set, was mirrored whole) and csh's `setenv NAME …`: a name and its value
    // with no `=` or `:` between them for the key rule. Not a command's output (fish's `(cat …)`,
    // Tcl's and expect's `set password [lindex $argv 0]`).
    pattern: new RegExp(String.raw`^[ \t]*(?:set(?:[ \t]+-{1,2}[A-Za-z][A-Za-z-]*)*|setenv)[ \t]+(?<k>[A-Za-z_][A-Za-z0-9_]{0,63})[ \t]+${VALUE}`, 'gm'),
    hint: ['set'],
    needs: { words: KEY_WORDS, caseless: true, lines: true },
    accept: (g) => {
      const value = g.v1 ?? g.v2 ?? g.v3
      if (g.v3 !== undefined && /^[[(]/.test(g.v3)) return false
      return (isCredentialKey(g.k ?? '') && isValue(value)) || (isTokenKey(g.k ?? '') && looksLikeToken(value))
    },
  },
  {
    id: 'credential-assignment',
    description: 'token in a map keyed by host',
    // Session 29: Composer's auth.json (its home is ~/.config/composer): `"github-oauth":
    // {"github.com": "…"}`, `"gitlab-token"`, `"gitlab-oauth"`, `"bearer"`, `"forgejo-token"`: each
    // value is a token, keyed by the host it is for (a key that names no credential).
    pattern: /"(?<h>[A-Za-z0-9.-]+(?::\d{1,5})?)"[ \t]*:[ \t]*"(?<v>[^"\\\s]{6,})"/g,
    hint: ['-oauth', '-token', 'bearer'],
    needs: { words: ['-oauth', '-token', 'bearer'], caseless: true },
    accept: (g, text, at, marks) => {
      // The innermost object the pair stands in, and the key that object is the value of.
      const open = marks.lastIndexOf('{', at)
      if (open < 0 || marks.lastIndexOf('}', at - 1) > open) return false
      return /"(?:github-oauth|gitlab-oauth|gitlab-token|bitbucket-oauth|forgejo-token|bearer)"[ \t\r\n]*:[ \t\r\n]*$/i.test(text.slice(Math.max(0, open - 40), open)) && isValue(g.v)
    },
  },
  {
    id: 'credential-assignment',
    description: 'Kubernetes Secret value',
    // Session 29: a Secret's `data:` (base64) and `stringData:` values are its secrets whatever
    // their keys say (`connection: cG9zdGdyZXM6Ly9…`): a manifest k3s deploys from
    // /etc/rancher/k3s/server/manifests, a kubelet's static pods' folder. A block scalar's lines
    // (`key: |`) with it. Only in a YAML document that is `kind: Secret`.
    // Speed and denial of service (session 37): the key ends at its last character that is no
    // blank (the blanks before `:` were a second way to split them), and the value goes in steps
    // of whole runs of blanks, as the Jetty rule's: a value before 16 KB of tabs took 3 s (cubic).
    // The same matches (sdk/test/secret-rules-linear.test.ts).
    pattern: /^(?<i>[ \t]+)(?<k>[^\s:#"'](?:[^:\n]{0,251}[^:\n \t])?|"[^"\n]{1,253}"|'[^'\n]{1,253}')[ \t]*:(?:[ \t]+(?<v>[^\s|>#&*!](?:(?=(?<w>[ \t]*))\k<w>[^ \t\n])*?)|[ \t]*[|>][+-]?[1-9]?[ \t]*\r?\n(?<v1>\k<i>[ \t]+\S[^\n]*(?:\n\k<i>[ \t]+\S[^\n]*)*))[ \t]*\r?$/gm,
    hint: ['kind'],
    needs: { words: ['Secret'] },
    accept: (g, text, at, marks) => {
      if (!isValue(g.v ?? g.v1)) return false
      // The block the line stands in: the nearest line above that is not indented, blank or a
      // comment (`at` begins a line). Session 32: looked up, not walked back to from every line.
      const parent = marks.lastLineStartingWith(/[^\s#]/, at)
      if (parent < 0) return false
      const parentEnd = text.indexOf('\n', parent)
      if (!/^(?:data|stringData)[ \t]*:[ \t]*(?:#.*)?\r?$/.test(text.slice(parent, parentEnd < 0 ? text.length : parentEnd))) return false
      // The YAML document (between `---` lines) is a Secret: asked once a document.
      const start = marks.lastIndexOf('\n---', at)
      return marks.once(`kubernetes-secret:${start}`, () => {
        const endAt = marks.indexOf('\n---', at)
        const doc = text.slice(start < 0 ? 0 : start, endAt < 0 ? text.length : endAt)
        return /^kind:[ \t]*["']?Secret["']?[ \t]*\r?$/m.test(doc)
      })
    },
  },
  {
    id: 'command-line-flag',
    description: 'user and password on a command line',
    // Samba's `-U user%password`, lftp's `-u user,password`.
    // Speed (session 37): the flag is matched (its blank, the rest a look-ahead: no match hides
    // another), and which flags a command took is worked out once a line (samba's and lftp's flags);
    // each command searched its line to the end for its flag before (16 KB of `lftp,` 0.2 s, 64 KB 3 s).
    pattern: new RegExp(SAMBA_LFTP_FLAG, 'g'),
    hint: ['smb', 'rpcclient', 'net', 'lftp'],
    needs: { words: ['-U', '--user', '-u'], lines: true },
    accept: (g, text, at, marks) => isValue(g.v1 ?? g.v2) && sambaLftpFlags(text, at, marks).has(at),
  },
  {
    id: 'command-line-flag',
    description: 'password given to htpasswd',
    // htpasswd's batch mode takes the password as its last argument: `-nb USER PASSWORD`.
    pattern: new RegExp(String.raw`\bhtpasswd(?<f>(?:[ \t]+-[A-Za-z]+)+)[ \t]+[^\s-]\S*[ \t]+${VALUE}`, 'g'),
    hint: ['htpasswd'],
    accept: (g) => /b/.test(g.f ?? '') && /n/.test(g.f ?? '') && isValue(g.v1 ?? g.v2 ?? g.v3),
  },
  {
    id: 'command-line-flag',
    description: 'password given to htpasswd',
    // `-b FILE USER PASSWORD`; mosquitto_passwd's the same (session 18).
    pattern: new RegExp(String.raw`\b(?:htpasswd|mosquitto_passwd)(?<f>(?:[ \t]+-[A-Za-z]+)+)[ \t]+[^\s-]\S*[ \t]+[^\s-]\S*[ \t]+${VALUE}`, 'g'),
    hint: ['htpasswd', 'mosquitto_passwd'],
    accept: (g) => /b/.test(g.f ?? '') && !/n/.test(g.f ?? '') && isValue(g.v1 ?? g.v2 ?? g.v3),
  },
  {
    id: 'command-line-flag',
    description: 'password given to chpasswd',
    // `echo user:password | chpasswd`.
    // Quotes may be escaped: the command inside a JSON document (`echo \\"kiosk:…\\" | chpasswd`).
    // And `echo password | sudo -S …`, as sudo's own log line shows the command.
    // And (session 17) a password piped to a program that reads it from its standard input:
    // `echo "…" | openconnect --passwd-on-stdin …` in rc.local, `echo '…' | docker login
    // --password-stdin`, `printf '%s' '…' | podman login --password-stdin`, `| passwd --stdin`.
    // Session 20: also `printf 'pw\\npw\\n' | …` (the value and its repeats, each line of the
    // input), and more programs that read a password from their input: `| kinit`, `| realm join`,
    // `| smbpasswd -s`, `| cryptsetup …`, `| gpg … --passphrase-fd 0`. Session 21: `echo -e
    // "pw\\npw" | passwd USER` (passwd reads the new password twice from a pipe), not only `--stdin`.
    // Session 29: `echo … | gh auth login --with-token` (GitHub's CLI reads its token so).
    // Speed (session 37): after the pipe, the flag's search no longer follows a run of blanks of
    // its own (`[ \t]*` then a lazy `[^\n|;&]*?`, which takes blanks too: each split of the run
    // tried, 16 KB of tabs after `echo A|` 0.9 s); the same texts, the program's name still after
    // its blanks (sdk/test/secret-rules-linear.test.ts).
    pattern:
      /\b(?:echo|printf)[ \t]+(?:-[ne]+[ \t]+)?(?:(?:"%s(?:\\n)?"|'%s(?:\\n)?'|%s(?:\\n)?)[ \t]+)?(?:\\?["'])?(?:[A-Za-z_][\w.-]*:(?<v>[^\s"':|\\]+)(?:\\{1,2}n)?(?:\\?["'])?[ \t]*\|[ \t]*(?:sudo[ \t]+)?(?:\/usr\/sbin\/)?chpasswd\b|(?<v1>[^\s"'|\\]+(?:\\{1,2}n[^\s"'|\\]+)*)(?:\\{1,2}n)?(?:\\?["'])?[ \t]*\|[ \t]*(?:\/usr\/bin\/)?sudo\b[^\n|;&]*?[ \t]-[A-Za-z]*S\b|(?<v2>[^\s"'|\\]+(?:\\{1,2}n[^\s"'|\\]+)*)(?:\\{1,2}n)?(?:\\?["'])?[ \t]*\|(?:[^\n|;&]*?[ \t](?:--passw(?:or)?d-(?:on-|from-)?stdin|--pass-stdin|--passphrase-fd[ \t=]+0|--with-token)\b|[ \t]*(?:sudo[ \t]+)?(?:\/usr\/s?bin\/)?(?:passwd\b(?![.-])|kinit\b|realm[ \t]+join\b|cryptsetup\b|smbpasswd\b[^\n|;&]*?[ \t]-[A-Za-z]*s\b)))/g,
    hint: ['chpasswd', 'sudo', 'stdin', 'passphrase-fd', 'kinit', 'realm', 'cryptsetup', 'smbpasswd', 'passwd', 'with-token'],
    needs: { words: ['echo', 'printf'], lines: true },
    accept: (g) => isValue(g.v ?? g.v1 ?? g.v2),
  },
  {
    id: 'credential-assignment',
    description: 'password directive',
    // A line that is `password VALUE` or `password USER VALUE`: pppd's peers files, GRUB's
    // `password`/`password_pbkdf2 USER HASH`, OpenLDAP's `rootpw`. PAM's stacks begin their lines
    // with `password` too, followed by a control word and a module: never two words alone.
    // `Password VALUE` too: cntlm.conf (session 18).
    pattern: new RegExp(String.raw`^[ \t]*(?<d>[Pp]assword(?:_pbkdf2)?|rootpw)[ \t]+(?:(?<u>[^\s"'=]+)[ \t]+)?${VALUE}[ \t]*\r?$`, 'gm'),
    // `assword`: `password` and `Password` (the pattern's case, as written).
    hint: ['assword', 'rootpw'],
    needs: { words: ['assword', 'rootpw'], lines: true },
    accept: (g) => {
      const first = g.u ?? g.v1 ?? g.v2 ?? g.v3 ?? ''
      if (/^(?:required|requisite|sufficient|optional|include|substack|\[.*)$/.test(first)) return false
      if (g.d === 'rootpw' && g.u !== undefined) return false
      // Not a message catalog's strings run together (`Password required\0…` in sudoers.mo).
      if (/[\x00-\x08]/.test(first + (g.v1 ?? g.v2 ?? g.v3 ?? ''))) return false
      return isValue(g.v1 ?? g.v2 ?? g.v3)
    },
  },
  {
    id: 'password-hash',
    description: 'GRUB password hash',
    pattern: /\b(?<v>grub\.pbkdf2\.sha\d+\.\d+\.[0-9A-Fa-f]{16,}\.[0-9A-Fa-f]{16,})/g,
    hint: ['grub.pbkdf2'],
  },
  {
    id: 'credential-assignment',
    description: 'fetchmail password',
    file: /^\.?fetchmailrc$/,
    pattern: new RegExp(String.raw`\bpass(?:word)?[ \t]+${VALUE}`, 'g'),
    accept: (g) => isValue(g.v1 ?? g.v2 ?? g.v3),
  },
  {
    id: 'credential-assignment',
    description: 'SNMPv3 user passphrases',
    // snmpd.conf's `createUser NAME SHA "authpass" AES "privpass"`: both passphrases, the rest of the line.
    pattern: /^[ \t]*createUser[ \t]+(?:-e[ \t]+\S+[ \t]+)?\S+[ \t]+(?:MD5|SHA(?:-\d+)?)[ \t]+(?:-[lm][ \t]+)?(?<v>[^\s#][^\n]*)/gm,
    hint: ['createUser'],
  },
  {
    id: 'credential-assignment',
    description: 'password echoed by a password command',
    // A setting that names a command printing the password, given the password itself:
    // PostgreSQL's `ssl_passphrase_command = 'echo …'`, msmtp's `passwordeval "echo …"`, mbsync's
    // `PassCmd "printf %s …"`. A command that reads a file or a keyring names no secret.
    // Speed (session 14): linear, see PASSWORD_COMMAND.
    pattern: PASSWORD_COMMAND,
    within: linesToLastEcho,
    hint: ['echo', 'printf'],
    needs: { words: ['pass', 'secret', 'token'], caseless: true, lines: true },
    accept: (g) => isValue(g.v),
  },
  {
    id: 'credential-assignment',
    description: 'Nagios or Icinga resource macro',
    // resource.cfg's `$USER3$=password`: the macros hold the passwords checks are run with
    // (`$USER1$=/usr/lib/nagios/plugins`, a path, is not one).
    // Speed and denial of service (session 37): a value that ends nowhere takes the rest of its line
    // with it (the second alternative, no `v`), so the search goes on past it, not from each `^`
    // after a `\r` in it (`^` stands there too under `m`, and `[^\n]` runs over it): a later start's
    // value ends where this one's could have. It was quadratic: 16 KB of `\v\r$USER0$=RR` took
    // 0.2 s, 64 KB 7 s (1 MB some 15 minutes); the same findings (sdk/test/secret-rules-linear.test.ts).
    pattern: /^[ \t]*\$USER\d{1,3}\$[ \t]*=[ \t]*(?:(?<v>\S(?:[^\n]*\S)?)[ \t]*\r?$|\S[^\n]*)/gm,
    hint: ['$USER'],
    accept: (g) => isValue(g.v),
  },
  {
    id: 'credential-assignment',
    description: 'cloud-init chpasswd list',
    // cloud-init's `chpasswd: list: |` block (and its `list:` of `- user:password` items): one
    // `user:password` a line, under the block's key. Only in a text that speaks of chpasswd.
    // Speed (session 37): the lines above, to `list:`, were a look-behind searched back from each
    // line of the block (16 KB of `\t-:i` lines took 0.4 s, 1 MB would take half an hour); each line
    // is asked once now (afterOpeningLine), the same lines.
    pattern: /(?<=\n)[ \t]+(?:-[ \t]+)?["']?[^\s:#"']+:(?<v>[^\s"']+)["']?[ \t]*\r?$/gm,
    hint: ['chpasswd'],
    needs: { words: ['list:'] },
    accept: (g, text, at, marks) => isValue(g.v) && inChpasswdList(text, at, marks),
  },
  {
    id: 'credential-assignment',
    description: 'credential in an XML element',
    // `<password>…</password>`, Syncthing's `<apikey>…</apikey>`, `<secret>`, `<token>`; a
    // token-shaped `<key>`. The element on one line, its tag naming a credential.
    pattern: /<(?<k>[A-Za-z_][\w.:-]{0,63})(?:[ \t][^<>\n]*)?>(?<v>[^<>\n]{3,})<\/\k<k>[ \t]*>/g,
    hint: ['</'],
    needs: { words: KEY_WORDS, caseless: true, lines: true },
    accept: (g, _text, at, marks) => {
      const value = g.v?.trim()
      if (!((isCredentialKey(g.k ?? '') && isValue(value)) || (isTokenKey(g.k ?? '') && looksLikeToken(value)))) return false
      // Not inside an XML comment: Maven's settings.xml shows `<password>repopwd</password>` as an example.
      return marks.lastIndexOf('<!--', at) <= marks.lastIndexOf('-->', at)
    },
  },
  {
    id: 'credential-assignment',
    description: 'credential in an Erlang term',
    // RabbitMQ's classic rabbitmq.config: `{default_pass, <<"…">>}`, `{password, "…"}`.
    pattern: /\{[ \t]*(?<k>[a-z][a-z0-9_]{0,63})[ \t]*,[ \t]*(?:<<)?"(?<v>[^"\n]{3,})"/g,
    hint: ['{'],
    needs: { words: KEY_WORDS, caseless: true, lines: true },
    accept: (g) => isCredentialKey(g.k ?? '') && isValue(g.v),
  },
  {
    id: 'credential-assignment',
    description: 'credential assigned to an indexed key',
    // A key in brackets: php-fpm's `env[DB_PASS] = …`, `php_admin_value[…]`, Omnibus GitLab's
    // `gitlab_rails['db_password'] = "…"`, PHP's `$cfg['Servers'][$i]['password'] = '…';`.
    pattern: new RegExp(String.raw`\[["']?(?<k>[A-Za-z0-9_.-]{1,64})["']?\][ \t]*(?:=>|=)[ \t]*${VALUE}`, 'g'),
    hint: [']'],
    needs: { words: KEY_WORDS, caseless: true, lines: true },
    // A value not in quotes only under a key in capitals (`env[DB_PASS] = …`): program code
    // assigns variables so (`token['id_token'] = id_token`).
    // Session 31: or in a php-fpm pool's `php_admin_value[mysqli.default_pw] = …` (a php.ini setting's name).
    accept: (g, text, at) =>
      isCredentialKey(g.k ?? '') &&
      isValue(g.v1 ?? g.v2 ?? g.v3) &&
      (g.v3 === undefined || /^[A-Z0-9_]+$/.test(g.k ?? '') || /^[ \t]*php_(?:admin_)?value$/.test(text.slice(text.lastIndexOf('\n', at) + 1, at))),
  },
  {
    id: 'credential-assignment',
    description: 'database login in a directive',
    // ProFTPD's `SQLConnectInfo db[@host] user password`; NUT's `MONITOR ups@host 1 user password primary`.
    // Speed (session 37): the unquoted password taken whole (a look-ahead and its back-reference):
    // a shorter one is followed by the rest of its run, where the look-ahead fails as it did after
    // the whole one. Given back a character at a time, each tried to the line's end, it was
    // quadratic: 16 KB of `MONITOR Q 0 d TsIsI…` took 4 s, 64 KB 92 s (sdk/test/secret-rules-linear.test.ts).
    pattern:
      /^[ \t]*(?:SQLConnectInfo[ \t]+\S+[ \t]+\S+|MONITOR[ \t]+\S+[ \t]+\d+[ \t]+\S+)[ \t]+(?:"(?<v1>[^"\n]+)"|(?=(?<v2>[^\s"]+))\k<v2>)(?=[ \t]+(?:master|slave|primary|secondary)\b|[ \t]*(?:\S+[ \t]*)?\r?$)/gm,
    hint: ['SQLConnectInfo', 'MONITOR'],
    accept: (g) => isValue(g.v1 ?? g.v2),
  },
  {
    id: 'credential-assignment',
    description: 'user and password of a directive',
    // HAProxy's `stats auth user:password`, motion's `stream_authentication user:password`.
    pattern: /^[ \t]*(?:stats[ \t]+auth|[a-z_]*authentication)[ \t]+[^\s:]+:(?<v>\S+)/gm,
    hint: ['stats', 'authentication'],
    accept: (g) => isValue(g.v),
  },
  {
    id: 'credential-assignment',
    description: 'Redis ACL password',
    // `user NAME on >password ~keys +@all` in redis.conf or an ACL file, `ACL SETUSER NAME >password`;
    // `#<sha256>` is the password's hash.
    // The marker is matched first and the line's start looked behind from it: a look behind at
    // every offset of every text was the slowest rule.
    pattern: /[>#](?<=(?:^[ \t]*user|\bACL[ \t]+SETUSER)[ \t]+\S+(?:[ \t]+[^\s>#]\S*)*[ \t]+[>#])(?:(?<=>)(?<v1>\S+)|(?<=#)(?<v2>[0-9a-f]{64})\b)/gim,
    hint: ['user'],
    accept: (g) => isValue(g.v1 ?? g.v2),
  },
  {
    id: 'credential-assignment',
    description: 'SQL password',
    // `ALTER USER … IDENTIFIED BY '…'`, `CREATE ROLE … PASSWORD '…'` (PostgreSQL, MySQL), as a
    // cron line, a log or a script run by `mysql -e` writes them.
    // After the statement's USER, ROLE or TO (`GRANT … TO 'u'@'h' IDENTIFIED BY '…'`), not in prose.
    // Also a hash given as it is stored (`IDENTIFIED WITH mysql_native_password AS '*…'`, session 18).
    // Speed (session 37): a start that finds no password takes the rest of its statement with it
    // (the second alternative, no value): a later USER, ROLE or TO in it searches what this one
    // searched, and finds nothing either. Searched again from each, it was quadratic (128 KB of
    // `USER'` 4 s; sdk/test/secret-rules-linear.test.ts).
    pattern: /\b(?:USER|ROLE|TO)\b(?:[^\n;]*?\b(?:IDENTIFIED[ \t]+(?:WITH[ \t]+\S+[ \t]+)?(?:BY|AS)|(?:ENCRYPTED[ \t]+)?PASSWORD)[ \t]+(?:\\?'(?<v1>[^'\n\\]+)\\?'|\\?"(?<v2>[^"\n\\]+)\\?")|[^\n;]*)/gi,
    hint: ['identified', 'password'],
    needs: { words: ['identified', 'password'], caseless: true, lines: true },
    accept: (g) => isValue(g.v1 ?? g.v2),
  },
  {
    id: 'credential-assignment',
    description: 'SQL password',
    // Session 35: MySQL's and MariaDB's `SET PASSWORD [FOR 'u'@'h'] = PASSWORD('…')` (and `= '…'`,
    // `OLD_PASSWORD(…)`), as a script's `mysql -e`, a shell history or MariaDB's general query log
    // writes it (MySQL's own log rewrites it; MariaDB's does not).
    // Speed and denial of service (session 37): the account after FOR was `[ \t]+FOR[ \t]+[^=\n;]{1,200}?`
    // before `[ \t]*=`, three ways to split a run of blanks, each tried (16 KB of tabs after
    // `SET PASSWORD FOR` took 116 s; 1 MB would take days). The same stretch up to the first `=` is
    // taken now as it can be split: its blanks after FOR whole (a look-ahead and its
    // back-reference: no backtracking into them), then at most 200 characters from a non-blank to
    // a non-blank, or nothing where two blanks or more stood (the earlier's one blank, then one as
    // the account). Linear; the same matches (sdk/test/secret-rules-linear.test.ts).
    pattern: /\bSET[ \t]+PASSWORD\b(?:[ \t]+FOR[ \t](?=(?<b>[ \t]*))\k<b>(?:[^=\n; \t](?:[^=\n;]{0,198}[^=\n; \t])?|(?<=[ \t][ \t])))?[ \t]*=[ \t]*(?:(?:OLD_)?PASSWORD[ \t]*\([ \t]*)?(?:\\?'(?<v1>[^'\n\\]+)\\?'|\\?"(?<v2>[^"\n\\]+)\\?")/gi,
    needs: { words: ['password'], caseless: true, lines: true },
    accept: (g) => isValue(g.v1 ?? g.v2),
  },
  {
    id: 'command-line-flag',
    description: 'password on a command line',
    // openssl's `-k PASSWORD` and `-pass pass:PASSWORD`, ncftp's `-p PASSWORD`.
    pattern: /\bopenssl\b[^\n|;&]*?[ \t](?:-k[ \t]+(?<v1>[^\s"'-][^\s"']*)|-pass[ \t]+["']?pass:(?<v2>[^\s"']+))|\bncftp(?:put|get|ls|batch)?\b[^\n|;&]*?[ \t]-p[ \t]+(?<v3>[^\s"'-][^\s"']*)/g,
    hint: ['openssl', 'ncftp'],
    needs: { words: ['-k', '-pass', '-p'], lines: true },
    accept: (g) => isValue(g.v1 ?? g.v2 ?? g.v3),
  },
  {
    id: 'credential-assignment',
    description: 'TACACS+ key',
    // tac_plus.conf's shared `key = …` (a bare `key` names a secret only there).
    file: /^tac_plus\.conf$/,
    pattern: new RegExp(String.raw`^[ \t]*key[ \t]*=[ \t]*${VALUE}`, 'gm'),
    accept: (g) => isValue(g.v1 ?? g.v2 ?? g.v3),
  },
  {
    id: 'credential-assignment',
    description: 'pgbouncer password',
    // pgbouncer's auth_file: `"user" "password"` (or `"md5…"`).
    file: /^userlist\.txt$/,
    pattern: /^[ \t]*"[^"\n]*"[ \t]+"(?:md5)?(?<v>[^"\n]+)"/gm,
    accept: (g) => isValue(g.v),
  },
  {
    id: 'credential-assignment',
    description: 'OpenVPN inline user and password',
    // OpenVPN 2.6's `<auth-user-pass>` and `<http-proxy-user-pass>` blocks inside a config: the
    // user on the first line, the password on the second (session 14).
    pattern: /<(?<k>auth-user-pass|http-proxy-user-pass)>[ \t]*\r?\n[ \t]*[^\s<][^\n]*\n[ \t]*(?<v>[^\s<](?:[^\n]*[^\s])?)[ \t]*\r?(?:\n|$)/g,
    needs: { words: ['user-pass>'] },
    accept: (g) => isValue(g.v),
  },
  {
    id: 'url-credentials',
    description: 'database DSN with a password',
    // Go's MySQL driver DSN: `user:password@tcp(host:3306)/db`, `user:password@(host)/`,
    // `user:password@unix(/run/mysqld/mysqld.sock)/` (mysqld_exporter's DATA_SOURCE_NAME, Go
    // services' DSN=): no `://` for the URL rule to see (session 14).
    // Printable ASCII only (no `@` or quote in the password), the address closed and `/` after it
    // (the driver asks for both): random bytes of compressed files and tables in binaries matched otherwise.
    // Speed (session 37): the password is the whole run of those characters after the `:` (`@` is
    // none of them), so every start in the run (after its `=`, `,`, `;` or `(`) reaches the same `@`:
    // a start that fails takes the run with it in an alternative with no value. It was quadratic:
    // 16 KB of `m:(` took 0.2 s, 64 KB 3 s.
    pattern: /(?<![^\s"'=,;(])[\w.+$-]+:(?:(?<v>[\x21\x23-\x26\x28-\x3f\x41-\x7e]+)@(?:tcp6?|tcp4|udp|unix|memsql)?\([^\s()]*\)\/|[\x21\x23-\x26\x28-\x3f\x41-\x7e]*)/g,
    needs: { words: ['@(', 'tcp(', 'tcp6(', 'tcp4(', 'udp(', 'unix(', 'memsql('], lines: true },
    accept: (g) => isValue(g.v),
  },
  {
    id: 'private-key',
    description: 'JSON web key',
    // A private JWK (certbot's accounts/…/private_key.json, a JWKS): its private members.
    pattern: /"(?:d|p|q|dp|dq|qi|k)"[ \t]*:[ \t]*"(?<v>[A-Za-z0-9_-]{16,})"/g,
    hint: ['"kty"'],
  },
  {
    id: 'provider-token',
    description: 'API token of a known provider (by its prefix)',
    // Session 18, from gitleaks' default rules (config/gitleaks.toml) for the providers a Linux
    // server talks to, where secretlint's preset has no rule: Stripe, DigitalOcean, GitLab's other
    // tokens (glpat- is the preset's), Atlassian and Bitbucket, PyPI, Slack's configuration
    // tokens, Twilio, Mailgun, Mailchimp, Brevo, Terraform Cloud, Google's API keys and OAuth client
    // secrets, Azure AD client secrets, Cloudflare's origin CA key, Heroku, Pulumi, Doppler,
    // Sentry, New Relic, Alibaba, Fly.io; and Tailscale, Matrix and ntfy tokens. A prefix finds
    // them where no key names them: a positional argument (`doctl auth init -t …`, `curl -u
    // sk_live_…:`), a log line, a URL.
    pattern: new RegExp(
      String.raw`(?<![\w-])(?<v>(?:sk|rk)_(?:live|test|prod)_[0-9a-zA-Z]{10,99}|whsec_[0-9a-zA-Z]{32,}|do[opr]_v1_[a-f0-9]{64}|glrt-[\w-]{20,}|gldt-[\w-]{20,}|glptt-[0-9a-f]{40}|GR1348941[\w-]{20}|glcbt-[0-9a-zA-Z]{1,5}_[\w-]{20,}|glft-[\w-]{20,}|glimt-[\w-]{25,}|gloas-[\w-]{64,}|glsoat-[\w-]{20,}|glagent-[\w-]{50,}|glffct-[\w-]{20,}|AT(?:ATT|CTT)3[\w=-]{100,}|ATBB[A-Za-z0-9]{28,}|pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[\w-]{50,}|xoxe(?:\.xox[bp])?-\d-[A-Za-z0-9]{100,}|SK[0-9a-f]{32}|key-[0-9a-f]{32}|[0-9a-f]{32}-us\d{1,2}|x(?:keysib|smtpsib)-[a-f0-9]{64}-[A-Za-z0-9]{16}|[A-Za-z0-9]{14}\.atlasv1\.[\w=-]{60,70}|AIza[\w-]{35}|GOCSPX-[\w-]{28}|[\w~.]{3}\dQ~[\w~.-]{31,34}|v1\.0-[a-f0-9]{24}-[a-f0-9]{146}|HRKU-AA[\w-]{58}|pul-[a-f0-9]{40}|dp\.(?:pt|st|sa|ct|scim|audit)\.(?:[a-z0-9_-]{1,40}\.)?[A-Za-z0-9]{40,44}|sntryu_[a-f0-9]{64}|sntrys_eyJ[\w+/=]{50,}|NR(?:AK|II)-[\w-]{27,32}|LTAI[A-Za-z0-9]{20}|fo1_[\w-]{43}|fm(?:1[ar]|2)_[A-Za-z0-9+/]{100,}={0,3}|tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{6,}-[A-Za-z0-9]{16,}|syt_[A-Za-z0-9+/=]+_[A-Za-z0-9]{20}_[A-Za-z0-9]{6}|tk_[a-z0-9]{29})(?![\w~-])`,
      'g',
    ),
    needs: {
      words: [
        'sk_live_', 'sk_test_', 'sk_prod_', 'rk_live_', 'rk_test_', 'rk_prod_', 'whsec_', '_v1_', 'glrt-', 'gldt-', 'glptt-', 'GR1348941', 'glcbt-', 'glft-', 'glimt-',
        'gloas-', 'glsoat-', 'glagent-', 'glffct-', 'ATATT3', 'ATCTT3', 'ATBB', 'pypi-AgE', 'xoxe', 'SK', 'key-', ...MAILCHIMP_DATA_CENTRES, 'xkeysib-', 'xsmtpsib-', '.atlasv1.', 'AIza',
        'GOCSPX-', 'Q~', 'v1.0-', 'HRKU-AA', 'pul-', 'dp.pt.', 'dp.st.', 'dp.sa.', 'dp.ct.', 'dp.scim.', 'dp.audit.', 'sntryu_', 'sntrys_', 'NRAK-', 'NRII-', 'LTAI', 'fo1_', 'fm1a_', 'fm1r_', 'fm2_', 'tskey-', 'syt_', 'tk_',
      ],
      // A token is on one line: only the lines holding a prefix are searched.
      lines: true,
    },
    // A Twilio key and a Mailgun key are hex after their prefix: with a digit and a letter.
    accept: (g) => {
      const hex = /^(?:SK|key-)([0-9a-f]+)$/.exec(g.v ?? '')?.[1]
      return hex === undefined || (/[0-9]/.test(hex) && /[a-f]/.test(hex))
    },
  },
  {
    id: 'provider-token',
    description: 'HashiCorp Vault token',
    // A legacy service token (`s.` and 24 letters and digits; `hvs.…` is the preset's) on a line
    // that speaks of Vault: `vault login s.…`, `X-Vault-Token: s.…` (session 18).
    // Speed (session 37): a `vault` with no token after it on its line takes the line with it, as
    // SQL's USER above (128 KB of `VAULT.` 1.7 s before).
    pattern: /\bvault\b(?:[^\n]*?(?<![\w.-])(?<v>s\.[A-Za-z0-9]{24})(?![\w.-])|[^\n]*)/gi,
    needs: { words: ['vault'], caseless: true, lines: true },
    accept: (g) => looksLikeToken(g.v?.slice(2)),
  },
  {
    id: 'chat-token',
    description: 'Microsoft Teams webhook',
    // `https://TENANT.webhook.office.com/webhookb2/…/IncomingWebhook/…/…` (and Office 365's older
    // `outlook.office.com/webhook/…`): anyone with the URL posts to the channel (session 18).
    // Speed (session 37): every start in a run of `[a-z0-9-]` reaches the run's end and finds there
    // what the first found (the tenant is the run up to its `.`), so a first start that fails takes
    // the run with it in an alternative with no value, up to an `outlook.office` at its end (a start
    // of the other form). It was quadratic: 16 KB of `t-` before `.com/webhook/` took 0.4 s, 64 KB 6.5 s.
    pattern: /\b(?:[a-z0-9-]+\.webhook\.office\.com\/webhookb2|outlook\.office(?:365)?\.com\/webhook)\/(?<v>[\w@-]{20,}\/IncomingWebhook\/[\w/-]{20,})|\b[a-z0-9-]+?(?=outlook\.office|[^a-z0-9-]|$)/g,
    needs: { words: ['.webhook.office.com/webhookb2/', '.com/webhook/'], lines: true },
    accept: (g) => g.v !== undefined,
  },
  {
    id: 'command-line-flag',
    description: 'password given to a tool as an argument',
    // Tools that take a password, passphrase, community or token as a plain argument (session
    // 18): `rabbitmqctl add_user USER PASSWORD` (and change_password, authenticate_user),
    // `wpa_passphrase SSID PASSPHRASE`, `nmcli … password …` and its `wifi-sec.psk …`, the
    // net-snmp tools' `-c COMMUNITY`, `-A`/`-X` passphrases, `ipmitool -P …`, FreeRDP's `/p:…`,
    // rdesktop's `-p …`, `aws configure set aws_secret_access_key …`, `ngrok authtoken …`,
    // `vault login TOKEN` (and `vault operator unseal KEY`, session 31); `mysqladmin … password NEW` (session 19); `mariadb-admin … password NEW`,
    // pacemaker's `pcs host auth … -p PASSWORD` (session 20). Within one command (not past a pipe or `;`).
    pattern: new RegExp(
      String.raw`(?:\brabbitmqctl\b[^\n|;&]*?[ \t](?:add_user|change_password|authenticate_user)[ \t]+(?:"[^"\n]*"|'[^'\n]*'|[^\s"']+)[ \t]+|\bwpa_passphrase[ \t]+(?:"[^"\n]*"|'[^'\n]*'|[^\s"'<>|]+)[ \t]+|\bnmcli\b[^\n|;&]*?[ \t](?:password|[\w-]+\.(?:psk|[\w-]*password|wep-key\d))[ \t]+|\bsnmp(?:walk|bulkwalk|get|getnext|bulkget|set|table|trap|inform|df|status|netstat|delta|test|translate)\b[^\n|;&]*?[ \t]-[cAX][ \t]*|\bipmitool\b[^\n|;&]*?[ \t](?:-P[ \t]*|user[ \t]+set[ \t]+password[ \t]+\d+[ \t]+)|\b(?:[xw]l?|sdl-)?freerdp\d?\b[^\n|;&]*?[ \t][/+-]p:|\brdesktop\b[^\n|;&]*?[ \t]-p[ \t]*|\baws[ \t]+configure[ \t]+set[ \t]+(?:--profile[ \t]+\S+[ \t]+)?(?<k>[\w.-]+)[ \t]+|\bngrok\b[^\n|;&]*?[ \t](?:config[ \t]+add-)?authtoken[ \t]+|\bvault[ \t]+(?:login|operator[ \t]+unseal)(?:[ \t]+-\S+)*[ \t]+|\b(?:mysqladmin|mariadb-admin)\b[^\n|;&]*?[ \t]password[ \t]+|\bpcs\b[^\n|;&]*?[ \t](?:host|cluster)[ \t]+auth\b[^\n|;&]*?[ \t](?:-p|--password)(?:[ \t]+|=))${VALUE}`,
      'g',
    ),
    needs: { words: ['rabbitmqctl', 'wpa_passphrase', 'nmcli', 'snmp', 'ipmitool', 'freerdp', 'rdesktop', 'aws', 'ngrok', 'vault', 'mysqladmin', 'mariadb-admin', 'pcs'], lines: true },
    accept: (g) => {
      const value = g.v1 ?? g.v2 ?? g.v3 ?? ''
      if (!isValue(value) || /^[-<>|&]|^[A-Z][A-Z0-9_]*$|^\[.*\]$/.test(value) || value === 'public') return false
      // `vault login -method=userpass username=…` names no token (its password= is the assignment rule's).
      if (g.k !== undefined) return isCredentialKey(g.k)
      // A key's base64 padding (`vault operator unseal …=`, session 31) is no `NAME=`.
      return !(value.includes('=') && /^[\w.-]+=(?!=*$)/.test(value))
    },
  },
  {
    id: 'credential-assignment',
    description: 'PHP constant holding a credential',
    // WordPress's wp-config.php `define( 'DB_PASSWORD', '…' );` and its keys and salts
    // (`define( 'AUTH_KEY', '…' );`: 64 characters of any kind, no token's shape), session 18.
    hint: ['define'],
    pattern: /\bdefine[ \t]*\([ \t]*(?<q>["'])(?<k>[A-Za-z0-9_]{1,64})\k<q>[ \t]*,[ \t]*(?:"(?<v1>[^"\n]*)"|'(?<v2>[^'\n]*)')/g,
    needs: { words: [...KEY_WORDS, 'salt'], caseless: true, lines: true },
    accept: (g) => {
      const value = g.v1 ?? g.v2 ?? ''
      const key = g.k ?? ''
      if (value === 'put your unique phrase here') return false
      if (isCredentialKey(key) && isValue(value)) return true
      // A key or salt of WordPress's kind: long, no blank (the shipped `put your unique phrase here` has them).
      return /(?:^|_)(?:KEY|SALT)$/.test(key) && value.length >= 32 && !/\s/.test(value)
    },
  },
  {
    id: 'credential-assignment',
    description: 'SNMP community',
    // snmpd.conf's `com2sec [-Cn CONTEXT] NAME SOURCE COMMUNITY` and snmptrapd.conf's
    // `authCommunity TYPES COMMUNITY` (the `rocommunity` family is the directive rule's); not the
    // well-known `public` (session 18).
    pattern: new RegExp(String.raw`^[ \t]*(?:com2sec6?(?:[ \t]+-Cn[ \t]+\S+)?[ \t]+\S+[ \t]+\S+|authCommunity[ \t]+\S+)[ \t]+${VALUE}`, 'gm'),
    hint: ['com2sec', 'authCommunity'],
    accept: (g) => {
      const value = g.v1 ?? g.v2 ?? g.v3
      return isValue(value) && value !== 'public'
    },
  },
  {
    id: 'credential-assignment',
    description: 'password in a service directive',
    // Session 18: Squid's `cache_peer … login=USER:PASSWORD`; cntlm's `PassNTLMv2 HASH` (and
    // PassNT, PassLM); vpnc's `IPSec secret …` and `Xauth password …` (the rest of the line).
    pattern:
      /\bcache_peer\b[^\n]*?[ \t]login=[^\s:]+:(?<v>[^\s"']+)|^[ \t]*Pass(?:NTLMv2|NT|LM)[ \t]+(?<v1>[0-9A-Fa-f]{32})\b|^[ \t]*(?:IPSec[ \t]+secret|Xauth[ \t]+password)[ \t]+(?<v2>\S(?:[^\n]*\S)?)/gm,
    hint: ['cache_peer', 'PassNT', 'PassLM', 'IPSec', 'Xauth'],
    accept: (g) => isValue(g.v ?? g.v1 ?? g.v2),
  },
  {
    id: 'credential-assignment',
    description: 'Monit password',
    // Monit's `set mailserver … password "…"` and `allow USER:PASSWORD` of its `set httpd` (not an
    // address: `allow fe80::1`, `allow 10.0.0.0/8`), session 18.
    pattern: new RegExp(
      String.raw`^[ \t]*(?:set[ \t]+mailserver\b[^\n]*?[ \t]password[ \t]+|allow[ \t]+(?![0-9a-fA-F]{0,4}:)[A-Za-z_][\w.-]*:)${VALUE}`,
      'gm',
    ),
    hint: ['set httpd', 'set mailserver'],
    accept: (g) => {
      const value = g.v1 ?? g.v2 ?? g.v3
      return isValue(value) && !/^[0-9a-fA-F:./]+$/.test(value ?? '')
    },
  },
  {
    id: 'password-hash',
    description: 'password hash with its dollars doubled',
    // A crypt(3) hash in a Compose file, where `$` is written `$$` (Traefik's
    // `basicauth.users=admin:$$apr1$$…`, session 18).
    pattern:
      /(?<![\w$])(?<v>\$\$(?:1|5|6|apr1)\$\$(?:rounds=\d+\$\$)?[./0-9A-Za-z]{1,16}\$\$[./0-9A-Za-z]{22,86}|\$\$2[abxy]?\$\$\d\d\$\$[./0-9A-Za-z]{53}|\$\$(?:y|gy|7)\$\$[./0-9A-Za-z]+\$\$[./0-9A-Za-z]{0,86}\$\$[./0-9A-Za-z]{43})/g,
    hint: ['$$'],
  },
  {
    id: 'password-hash',
    description: 'bcrypt hash in base64',
    // Caddy's `basicauth` (before 2.8) takes a bcrypt hash base64-encoded: `$2a$14$…` → `JDJhJDE0…` (session 18).
    pattern: /(?<![A-Za-z0-9+/])(?<v>JDJ[hi45]JD[A-Za-z0-9+/]{70,}={0,2})/g,
    hint: ['JDJ'],
    accept: (g) => /^\$2[abxy]?\$\d\d\$[./0-9A-Za-z]{53}$/.test(Buffer.from(g.v ?? '', 'base64').toString('latin1')),
  },
  {
    id: 'credential-assignment',
    description: 'netdata streaming API key',
    // Session 19: netdata's stream.conf, a child's `api key = …` (a key with a blank in it, which
    // the assignment rule's keys cannot be).
    pattern: /^[ \t]*api[ \t]+key[ \t]*=[ \t]*(?<v>\S(?:[^\n]*\S)?)/gim,
    needs: { words: ['api key'], caseless: true, lines: true },
    accept: (g) => isValue(g.v),
  },
  {
    id: 'credential-assignment',
    description: 'netdata streaming API key',
    // Session 19: a parent's stream.conf section named by the key it accepts (`[11111111-2222-…]`
    // alone on its line, `enabled =` or `type =` under it, comments and blank lines between).
    pattern: new RegExp(String.raw`\[(?<v>${UUID})\][ \t]*\r?\n(?:[ \t]*(?:[#;][^\n]*)?\r?\n)*[ \t]*(?:enabled|type)[ \t]*=`, 'g'),
    needs: { words: ['enabled', 'type'] },
    accept: (_g, text, at) => {
      const start = text.lastIndexOf('\n', at - 1) + 1
      return /^[ \t]*$/.test(text.slice(start, at))
    },
  },
  {
    id: 'ping-url',
    description: 'cron monitoring ping URL',
    // Session 19: a cron job's check-in URL lets anyone report it done or failed: healthchecks.io
    // (`https://hc-ping.com/<uuid>`, `…/<ping key>/<slug>`, a self-hosted instance's `/ping/<uuid>`),
    // Dead Man's Snitch (`https://nosnch.in/<10 hex>`), Cronitor (`cronitor.link/p/<key>/…`),
    // Uptime Kuma's push monitors (`/api/push/<token>`).
    pattern: new RegExp(
      String.raw`\bhc-ping\.com\/(?<v>${UUID}|[\w-]{22}(?=\/[\w-]))|\bnosnch\.in\/(?<v1>[0-9a-f]{10})(?![\w-])|\bcronitor\.link\/(?:p\/)?(?<v2>[\w-]{8,})|\/(?:(?<p>ping)\/|api\/push\/)(?<v3>[A-Za-z0-9-]{8,64})(?![\w-])`,
      'gi',
    ),
    needs: { words: ['hc-ping.com/', 'nosnch.in/', 'cronitor.link/', '/ping/', '/api/push/'], caseless: true, lines: true },
    // A self-hosted healthchecks' `/ping/` takes a check's UUID (not `/ping/localhost`); a push token has a digit and a letter.
    accept: (g) => {
      if (g.v3 === undefined) return true
      if (g.p !== undefined) return new RegExp(`^${UUID}$`, 'i').test(g.v3)
      return /^[A-Za-z0-9]+$/.test(g.v3) && /[0-9]/.test(g.v3) && /[A-Za-z]/.test(g.v3)
    },
  },
  {
    id: 'password-hash',
    description: 'Jetty password',
    // Session 19: Jetty's obfuscated passwords (`OBF:1v2j1uum…`, reversible by anyone) anywhere,
    // and a realm file's `user: MD5:<hex>,role` or `user: CRYPT:…` (realm.properties).
    pattern: /(?<![\w-])OBF:(?<v>[0-9a-z]{8,})\b|^[ \t]*[^\s:=#][^\s:=]*[ \t]*[:=][ \t]*(?:MD5:(?<v1>[0-9a-fA-F]{32})|CRYPT:(?<v2>[^\s,]{8,}))[ \t]*(?:,|\r?$)/gm,
    needs: { words: ['OBF:', 'MD5:', 'CRYPT:'], lines: true },
  },
  {
    id: 'password-hash',
    description: 'qBittorrent Web UI password hash',
    // Session 19: qBittorrent.conf's `WebUI\Password_PBKDF2="@ByteArray(salt:hash)"` (and the older `Password_ha1`).
    pattern: /\bPassword_(?:PBKDF2|ha1)[ \t]*=[ \t]*"?@ByteArray\((?<v>[^)\r\n]+)\)/g,
    needs: { words: ['Password_PBKDF2', 'Password_ha1'], lines: true },
  },
  {
    id: 'provider-token',
    description: 'k3s or RKE2 cluster token',
    // Session 19: the secure form of a k3s/RKE2 join token (`K10<sha256 of the CA>::server:<secret>`,
    // /var/lib/rancher/k3s/server/token and node-token) where no key names it: a log line, a join command.
    pattern: /(?<![\w-])(?<v>K10[0-9a-f]{64}::[^\s:'"]+:[^\s'"]+)/g,
    needs: { words: ['K10'], lines: true },
  },
  {
    id: 'password-hash',
    description: 'PostgreSQL MD5 password hash',
    // Session 19: `md5` and 32 hex digits, PostgreSQL's stored password (a pg_authid dump's COPY
    // line, pg_dumpall's `PASSWORD 'md5…'`, pgbouncer's auth_file under any name).
    pattern: /(?<![\w$])(?<v>md5[0-9a-f]{32})(?![\w])/g,
    needs: { words: ['md5'], lines: true },
  },
  {
    id: 'netrc',
    description: '.netrc password',
    // Session 19: `.netrc`'s `default` entry, as a script writes one (`default login … password …`);
    // not anonymous FTP's (`default login anonymous password user@site`, Net::Netrc's manual).
    pattern: /\bdefault\s+login\s+(?<u>\S+)\s+password\s+(?<v>\S+)/g,
    needs: { words: ['login'] },
    accept: (g) => isValue(g.v) && !/^(?:anonymous|ftp)$/i.test(g.u ?? ''),
  },
  {
    id: 'credential-assignment',
    description: 'credential in base64 in LDIF',
    // Session 19: LDIF gives a value that is not plain text in base64 after `::`
    // (`userPassword:: e1NTSEF9…`, `olcRootPW:: …`): the assignment rule sees no value there.
    pattern: /^[ \t]*(?<k>[A-Za-z][\w-]{0,63})::[ \t]*(?<v>[A-Za-z0-9+/]{4,}={0,2})[ \t]*\r?$/gm,
    needs: { words: KEY_WORDS, caseless: true, lines: true },
    accept: (g) => isCredentialKey(g.k ?? ''),
  },
  {
    id: 'credential-assignment',
    description: 'debconf password answer',
    // Session 19: a preseed file or debconf-set-selections input, `OWNER QUESTION password VALUE`
    // (`d-i passwd/root-password password …`, `mysql-server mysql-server/root_password password …`):
    // the type `password` says what the value is. Also echoed into debconf-set-selections
    // (`echo "… password …" | debconf-set-selections`, `<<< '…'`): the value up to the quote.
    pattern:
      /(?:^[ \t]*|(?<e>(?:\becho|\bprintf)[ \t]+(?:-e[ \t]+)?|<<<[ \t]*)["'])[\w.+-]+[ \t]+[\w.+-]+\/[^\s"']+[ \t]+password[ \t]+(?:(?<!["'][^\n]*)(?<v>\S(?:[^\n]*\S)?)[ \t]*\r?$|(?<=["'][^\n]*)(?<v1>[^\s"'](?:[^\n"']*[^\s"'])?)[ \t]*["'])/gm,
    needs: { words: ['password'], lines: true },
    accept: (g) => isValue(g.v ?? g.v1),
  },
  {
    id: 'credential-assignment',
    description: 'gossip encryption key',
    // Session 19: Consul's and Nomad's `encrypt = "…"` (HCL) and `"encrypt": "…"` (JSON), the
    // cluster's gossip key (base64 of 16 or 32 bytes); a bare `encrypt` names no secret elsewhere.
    pattern: /(?<![\w-])"?encrypt"?[ \t]*[=:][ \t]*"(?<v>[A-Za-z0-9+/]{22}(?:==|[A-Za-z0-9+/]{21}=))"/g,
    needs: { words: ['encrypt'], lines: true },
  },
  {
    id: 'command-line-flag',
    description: 'passwords given to chpasswd',
    // Session 20: `chpasswd <<EOF` (also `<<-`, a quoted delimiter, `cat <<EOF | chpasswd`) and the
    // `user:password` lines of its here-document, each a finding of its own (the names stay
    // readable): every line from the one that opens it to this one is such a line. The
    // delimiter's line has no `:`, so nothing after it is taken. Only in a text that names chpasswd.
    // Speed (session 37): the lines above, to the opening one, were a look-behind searched back
    // from each line (and the opening line's two words were sought every way round: a line of 16 KB
    // of `c<<\t` took 0.2 s); each line is asked once now (afterOpeningLine), the same lines.
    pattern: /(?<=\n)[ \t]*[^\s:#"']+:(?<v>[^\s"']+)[ \t]*\r?$/gm,
    hint: ['chpasswd'],
    needs: { words: ['<<'] },
    accept: (g, text, at, marks) => isValue(g.v) && inChpasswdHereDocument(text, at, marks),
  },
  {
    id: 'command-line-flag',
    description: 'password given to chpasswd',
    // Session 20: a here-string (`chpasswd <<< "user:password"`) and cron's own input: what
    // follows a crontab command's first `%` is its input, a `%` a line (`chpasswd%user:password%`).
    // Speed (session 37): cron's input was a look-behind searched back from every `%` (16 KB of
    // `chpasswd%0%0%…` took 0.4 s, 64 KB 1.9 s), asked once a line now (inChpasswdCronInput; a `%`
    // before it is searched again from its next character, as the look-behind's failure was); the
    // blanks around the here-string's quote are no longer split two ways; and a chpasswd with no
    // here-string after it takes the rest of its command with it (every chpasswd before the same
    // `%`, `<` or line's end finds what it found).
    pattern: /\bchpasswd\b[^\n%<]*<<<[ \t]*(?:\\?["'][ \t]*)?[^\s:#"'%]+:(?<v>[^\s"'%]+)|(?<=%)[ \t]*[^\s:#"'%]+:(?<v1>[^\s"'%]+)|\bchpasswd\b[^\n%<]*/g,
    hint: ['chpasswd'],
    needs: { words: ['<<<', '%'], lines: true },
    accept: (g, text, at, marks) => (g.v !== undefined ? isValue(g.v) : g.v1 !== undefined && isValue(g.v1) && inChpasswdCronInput(text, at, marks)),
    again: (g, text, at, marks) => g.v1 !== undefined && !inChpasswdCronInput(text, at, marks),
  },
  {
    id: 'private-key',
    description: 'WireGuard key given to wg',
    // Session 20: a key written into a script rather than a file: `wg set wg0 private-key <(echo
    // KEY)` (and `preshared-key`, `printf`), `echo KEY | wg set … private-key /dev/stdin`, `wg set …
    // /dev/stdin <<< KEY`, and `echo KEY | wg pubkey` / `wg pubkey <<< KEY` (a public key worked out
    // of a private one). A key as `wg genkey` prints it: 32 bytes in base64.
    // Speed (session 37): three forms in one expression, each `wg set` searched its line to the end
    // (a line of 16 KB of `/wg\tset\t` after `echo ys=|` took 0.12 s, 64 KB 1.9 s); the key is matched
    // (a blank, `<` or quote before it) and `wgKeys` works out once a line which keys the earlier
    // expression took: from the line's start, the first command that has its form's flag before its
    // line's next `|`, `;` or `&` (`<` for a here-string) takes it, and the search goes on after that.
    pattern: /(?<=[ \t"'<])[A-Za-z0-9+/]{43}=/g,
    accept: (_g, text, at, marks) => wgKeys(text, at, marks).has(at),
    needs: { words: ['wg'], lines: true },
  },
  {
    id: 'credential-assignment',
    description: 'systemd credential in a unit',
    // Session 20: `SetCredential=ID:VALUE` (the value to the line's end, blanks and all) and
    // `SetCredentialEncrypted=ID:BLOB`, the blob as `systemd-creds encrypt --pretty` prints it over
    // continued lines (`\` at a line's end). LoadCredential= and LoadCredentialEncrypted= name a
    // path or a credential's name, no value.
    pattern: /^[ \t]*SetCredential(?:Encrypted)?[ \t]*=[ \t]*[^\s:]+:[ \t]*(?:\\\r?\n[ \t]*)?(?<v>[^\s\\](?:[^\n\\]|\\(?!\r?\n)|\\\r?\n)*)/gm,
    needs: { words: ['SetCredential'] },
    accept: (g) => isValue(g.v?.trim()),
  },
  {
    id: 'command-line-flag',
    description: 'password an expect script sends',
    // Session 21: an `expect` script answers a password prompt with `send "password\r"` (also
    // `send -- "…"`, `exp_send`), on the line after the prompt's `expect` or in its braces
    // (`expect "assword:" { send "…\r" }`). A Tcl variable or command (`$pw`, `[exec …]`) is none.
    // Session 22: also a prompt that is one pattern of an `expect { … }` block (a line that begins
    // with the pattern, its flags before it: `"Password:" { send "…\r" }`, `-re "(?i)password" {`
    // and the action on the next lines), PASSWORD in capitals, `sleep` lines between the prompt and
    // the send, `send -s`, a literal in braces (`send {…}`) and one sent without its return.
    // Session 23: the lookbehind is tried only where a `send` follows (the lookahead first), over
    // at most 500 characters a stretch and 20 blank lines: at every position, unbounded, it made
    // a snapshot take minutes on a long one-line file (a minified script or search index in a
    // home: 381 s for one of 898 KB; now 4 ms). An expect script's lines are far shorter.
    pattern:
      /(?=(?:exp_)?send[ \t])(?<=(?:\bexpect\b[^\n]{0,500}|^[ \t]*(?:-[a-z]+[ \t]+)*["{][^\n]{0,500})(?:[Aa][Ss][Ss][Ww](?:[Oo][Rr])?[Dd]|[Pp](?:assphrase|ASSPHRASE)|[Pp][Ii][Nn]\b|[Ss](?:ecret|ECRET))[^\n]{0,500}?(?:[{;][ \t]*|\r?\n(?:[ \t]*(?:#[^\n]{0,500}|sleep[ \t]+[\d.]+[ \t]*)?\r?\n){0,20}[ \t]*))(?:exp_)?send[ \t]+(?:-(?:-|s|h|raw|null|break)[ \t]+)*(?:"(?<v>[^"\n\\$[]+)(?:\\[rn])*"|\{(?<v1>[^{}\n\\]+)(?:\\[rn])*\})/gm,
    hint: ['expect'],
    needs: { words: ['send'] },
    accept: (g) => isValue(g.v ?? g.v1),
  },
  {
    id: 'command-line-flag',
    description: 'password given to passwd',
    // Session 21: `passwd USER <<EOF` (and `smbpasswd -s -a USER <<EOF`, `<<-`, a quoted
    // delimiter): the here-document's first two lines are the new password and its repeat, each a
    // finding of its own. Neither is the delimiter (a here-document of one line or none).
    pattern:
      /(?<=(?:^|[\s;&|(])(?:\/usr\/s?bin\/)?(?:smb)?passwd\b[^\n<]*<<-?[ \t]*["']?(?<d>[A-Za-z_]\w*)\b["']?[^\n]*\r?\n(?:[ \t]*(?<s>\S+)[ \t]*\r?\n)?)^[ \t]*(?<v>\S+)[ \t]*\r?$/gm,
    hint: ['passwd'],
    needs: { words: ['<<'] },
    accept: (g) => g.v !== g.d && g.s !== g.d && isValue(g.v),
  },
  {
    id: 'credential-assignment',
    description: 'proxy password in proxychains.conf',
    // Session 21: a ProxyList line `socks5 HOST PORT USER PASSWORD` (also socks4, http, raw).
    pattern: /^[ \t]*(?:socks[45]|https?|raw)[ \t]+\S+[ \t]+\d+[ \t]+\S+[ \t]+(?<v>[^\s#]+)/gm,
    file: /^proxychains4?\.conf$/,
    needs: { words: ['socks', 'http', 'raw'], lines: true },
    accept: (g) => isValue(g.v),
  },
  {
    id: 'credential-assignment',
    description: "password in curl's config file",
    // Session 21: ~/.curlrc's `user = "name:password"` (and `-u name:password`, `proxy-user`), as
    // curl's own `-u` on a command line.
    pattern: /^[ \t]*(?:-{0,2}(?:user|proxy-user)|-[uU])(?:[ \t]*[=:][ \t]*|[ \t]+)"?[^\s:"]+:(?<v>[^\s"]+)"?/gm,
    file: /^[._]?curlrc$/,
    needs: { words: ['user', '-u', '-U'], lines: true },
    accept: (g) => isValue(g.v),
  },
  {
    id: 'credential-assignment',
    description: "GnuPG passphrase in duply's profile",
    // Session 21: duply's `GPG_PW='…'` and `GPG_PW_SIGN='…'` (/etc/duply/PROFILE/conf); `PW` alone
    // is no credential word.
    pattern: new RegExp(String.raw`^[ \t]*(?:export[ \t]+)?GPG_PW(?:_SIGN)?[ \t]*=[ \t]*${VALUE}`, 'gm'),
    needs: { words: ['GPG_PW'], lines: true },
    accept: (g) => isValue(g.v1 ?? g.v2 ?? g.v3),
  },
  {
    id: 'credential-assignment',
    description: 'password in a CIFS user name',
    // Session 21: mount.cifs takes `username=USER%PASSWORD` (fstab's options, a credentials file).
    pattern: /\bcifs\b[^\n]*?[\s,]user(?:name)?=[^,%\s]+%(?<v>[^,\s]+)/g,
    needs: { words: ['%'], lines: true },
    accept: (g) => isValue(g.v),
  },
  {
    id: 'command-line-flag',
    description: 'password given to openssl passwd',
    // Session 20: `openssl passwd -6 PASSWORD` hashes a password given on its command line
    // (`useradd -p "$(openssl passwd -6 '…')" …` in a provisioning script or cron job); `-stdin`
    // and `-in FILE` give none.
    pattern: new RegExp(String.raw`\bopenssl[ \t]+passwd(?<f>(?:[ \t]+(?:-salt[ \t]+(?:"[^"\n]*"|'[^'\n]*'|[^\s"']+)|-[A-Za-z0-9]+))*)[ \t]+${VALUE}`, 'g'),
    needs: { words: ['passwd'], lines: true },
    accept: (g) => {
      const value = g.v1 ?? g.v2 ?? g.v3 ?? ''
      return isValue(value) && !value.startsWith('-') && !/(?:^|[ \t])-(?:stdin|in)\b/.test(g.f ?? '')
    },
  },
  {
    id: 'credential-assignment',
    description: 'mbsync password',
    // Session 20: mbsync's (isync's) `Pass VALUE` in ~/.mbsyncrc or ~/.config/isyncrc (PassCmd is the password command rule's).
    file: /^\.?(?:mbsyncrc|isyncrc)$/,
    pattern: new RegExp(String.raw`^[ \t]*Pass[ \t]+${VALUE}`, 'gm'),
    accept: (g) => isValue(g.v1 ?? g.v2 ?? g.v3),
  },
  {
    id: 'authorization-header',
    description: 'SMTP or IMAP AUTH PLAIN credentials',
    // Session 20: `AUTH PLAIN <base64 of \0user\0password>` as a mail server's debug log shows
    // the client's command (postfix's debug_peer_list, Dovecot's rawlog), IMAP's `AUTHENTICATE PLAIN …`.
    pattern: /\bAUTH(?:ENTICATE)?[ \t]+PLAIN[ \t]+(?<v>[A-Za-z0-9+/]{8,}={0,2})/gi,
    needs: { words: ['PLAIN'], caseless: true, lines: true },
    accept: (g) => Buffer.from(g.v ?? '', 'base64').includes(0),
  },
  // Session 30.
  {
    id: 'credential-assignment',
    description: 'HexChat or XChat saved password',
    // servlist.conf (HexChat, under ~/.config/hexchat; XChat's servlist_.conf) keeps a network's
    // server password as `P=`, XChat's NickServ password as `B=` and a fork's SASL password as `A=`.
    file: /^servlist_?\.conf$/,
    pattern: /^[PAB]=(?<v>[^\r\n]+)/gm,
    accept: (g) => isValue(g.v),
  },
  {
    id: 'private-key',
    description: 'minisign or signify secret key',
    // The key line after the comment the tools write (`untrusted comment: minisign encrypted secret
    // key`, `… signify secret key`); not a signature's `signature from minisign secret key` nor a public key.
    pattern: /^untrusted comment: (?:(?:minisign|rsign) (?:(?:un)?encrypted )?secret key|signify secret key)[ \t]*\r?\n(?<v>[A-Za-z0-9+/]{40,}={0,2})/gm,
    needs: { words: ['untrusted comment: '] },
  },
  {
    id: 'credential-assignment',
    description: 'Consul ACL tokens',
    // Consul's agent tokens under keys that say nothing (`acl { tokens { default = "<uuid>" agent
    // = … } }`, JSON's `"tokens": {"initial_management": …}`): the block's body, in an `acl` block.
    // The `acl` block's look takes in the match's first character: in `{"acl":{"tokens":{…}}}`
    // and `acl {tokens {…}}` it is the `acl` block's own `{` (session 31: those were kept).
    // Speed (session 37): `[ \t]*(?:[:=][ \t]*)?` where `[ \t]*[:=]?[ \t]*` split a run of blanks
    // with no `:` or `=` every way (16 KB of tabs after `tokens"` 0.7 s, 64 KB 12.7 s; an `acl`
    // and 2,000 tabs before each match 8 ms a match); the same texts
    // (sdk/test/secret-rules-linear.test.ts).
    pattern: /(?:^|[\s{,])"?tokens"?[ \t]*(?:[:=][ \t]*)?\{(?<v>[^{}]*)\}/g,
    needs: { words: ['tokens'] },
    accept: (g, text, at) => /(?:^|[\s{,])"?acl"?[ \t]*(?:[:=][ \t]*)?\{/.test(text.slice(Math.max(0, at - 2000), at + 1)) && [...(g.v ?? '').matchAll(/[:=][ \t]*"([^"\r\n]*)"/g)].some((m) => isValue(m[1])),
  },
  {
    id: 'url-credentials',
    description: 'Sentry DSN key',
    // A Sentry DSN: its key (32 hex digits) is the URL's user, with no password after it
    // (`https://<key>@o123.ingest.sentry.io/456`, a self-hosted `https://<key>@sentry.example.org/2`).
    pattern: /\bhttps?:\/\/(?<v>[0-9a-f]{32})(?::[0-9a-f]{32})?@[A-Za-z0-9.-]+(?::\d+)?\/(?:[\w.-]+\/)*\d+(?![\w.-])/g,
    needs: { words: ['://'], lines: true },
  },
  {
    id: 'credential-assignment',
    description: 'Kubernetes Secret value',
    // A Secret written as JSON (`"kind": "Secret"`; also escaped inside another JSON string, as
    // kubectl's last-applied-configuration): its `data` and `stringData` objects' bodies.
    pattern: /(?<q>\\{0,3})"(?:data|stringData)\k<q>"[ \t\r\n]*:[ \t\r\n]*\{(?<v>[^{}]*)\}/g,
    hint: ['kind'],
    needs: { words: ['Secret'] },
    accept: (g, text, at) => /"[ \t\r\n]*:[ \t\r\n]*\\{0,3}"[^"\\\r\n]*\\{0,3}"/.test(g.v ?? '') && isKindSecret(text, at),
  },
  {
    id: 'credential-assignment',
    description: 'WireGuard key in netplan',
    // netplan's tunnels (`mode: wireguard`): `keys: private: …` and a peer's `keys: shared: …`, a
    // WireGuard key's shape (32 bytes of base64); `public:` is none.
    pattern: /(?:^|[\s{,])["']?(?:private|shared)["']?[ \t]*:[ \t]*["']?(?<v>[A-Za-z0-9+/]{43}=)(?![A-Za-z0-9+/=])/gm,
    needs: { words: ['private', 'shared'], lines: true },
  },
  {
    id: 'credential-assignment',
    description: 'Jetty realm password',
    // Jetty's HashLoginService file (Rundeck's /etc/rundeck/realm.properties): `user: password,
    // role…`, the password in plain text unless OBF:/MD5:/CRYPT: (session 19's rule).
    file: /^(?:[\w.-]+[._-])?realm\.properties$/,
    // Speed (session 37): the key up to its first `:` or `=` at once (the blanks before it were a
    // second way to split them), and the value in steps of its blanks taken whole and one other
    // character, so each end it may have is tried once: its earliest end is never within a run of
    // blanks (the run's start ends it as well). Lazy over runs of blanks, each end tried to the
    // run's end, it was cubic: 16 KB 45 s (sdk/test/secret-rules-linear.test.ts).
    pattern: /^[ \t]*[^\s#!:=][^:=\r\n]*[:=][ \t]*(?<v>[^,\s](?:(?=(?<w>[ \t]*))\k<w>[^ \t,\r\n])*?)[ \t]*(?:,|\r?$)/gm,
    accept: (g) => isValue(g.v),
  },
  // Session 31.
  {
    id: 'chat-token',
    description: 'Mattermost or Rocket.Chat webhook',
    // An incoming webhook's URL lets anyone post to the channel: Mattermost's
    // `https://HOST/hooks/<26 characters>` (its ids: lower case and digits), Rocket.Chat's
    // `https://HOST/hooks/<id>/<token>` (Slack's and Discord's are the preset's and a rule above).
    // Speed (session 37): a later `http://` in the same run finds only what this one would have (its
    // `/hooks/` is one this one tried), so a start that fails takes its run with it in an alternative
    // with no value. It was quadratic: 16 KB of `http:///hooks/opohhoApAAsphskhk/` took 0.14 s.
    pattern: /\bhttps?:\/\/[^\s"'<>]*?\/hooks\/(?:(?<v>[a-z0-9]{26})|[A-Za-z0-9]{17,24}\/(?<v1>[A-Za-z0-9]{32,64}))(?![\w\/-])|\bhttps?:\/\/[^\s"'<>]*/g,
    needs: { words: ['/hooks/'], lines: true },
    accept: (g) => g.v !== undefined || g.v1 !== undefined,
  },
  {
    id: 'credential-assignment',
    description: 'Vault unseal or recovery key',
    // `vault operator init` prints `Unseal Key 1: …` (or `Recovery Key 1: …`), kept in a file or a log.
    pattern: /\b(?:Unseal|Recovery) Key \d{1,2}:[ \t]*(?<v>[A-Za-z0-9+/]{20,}={0,2})/g,
    needs: { words: ['Unseal Key', 'Recovery Key'], lines: true },
  },
  {
    id: 'credential-assignment',
    description: 'credential in triple quotes',
    // Grafana's grafana.ini takes a password holding `#` or `;` in triple quotes (`password =
    // """…"""`): VALUE reads the first two quotes as an empty value.
    pattern: /(?<![\w.-])(?<k>[A-Za-z0-9_.-]{1,64})[ \t]*[=:][ \t]*"""(?<v>[^\n]*?)"""/g,
    hint: ['"""'],
    needs: { words: KEY_WORDS, caseless: true, lines: true },
    accept: (g) => isCredentialKey(g.k ?? '') && isValue(g.v),
  },
  {
    id: 'credential-assignment',
    description: 'credentials in a JSON array',
    // A credential key whose value is a list: Trojan's `"password": ["…", "…"]`, GitLab's
    // gitlab-secrets.json `"active_record_encryption_primary_key": ["…"]`; the list's body, over
    // lines as a pretty printer writes it.
    // The list with its brackets, so that what is left (`"password": <redacted>`) is no value.
    pattern: /(?<q>\\{0,3})"(?<k>[A-Za-z0-9_.-]{1,64})\k<q>"[ \t\r\n]*:[ \t\r\n]*(?<v>\[[^[\]{}]*\])/g,
    hint: ['['],
    needs: { words: KEY_WORDS, caseless: true },
    accept: (g) => {
      const items = [...(g.v ?? '').matchAll(/"([^"\\\r\n]*)\\{0,3}"/g)].map((m) => m[1])
      return (isCredentialKey(g.k ?? '') && items.some((i) => isValue(i))) || (isTokenKey(g.k ?? '') && items.some((i) => looksLikeToken(i)))
    },
  },
  {
    id: 'private-key',
    description: 'Matrix signing key, Borg key file, Tailscale private key',
    // Synapse's homeserver.signing.key (`ed25519 a_AbCd <seed>`); a Borg key file
    // (~/.config/borg/keys/…: `BORG_KEY <repository id>` then the key in base64 lines);
    // Tailscale's and headscale's `privkey:<hex>` (their public keys are `nodekey:`, `mkey:`…).
    pattern: /^ed25519[ \t]+[A-Za-z0-9_]+[ \t]+(?<v>[A-Za-z0-9+/]{43}=?)[ \t]*\r?$|^BORG_KEY[ \t]+[0-9a-f]{64}[ \t]*\r?\n(?<v1>[A-Za-z0-9+/=]+(?:\r?\n[A-Za-z0-9+/=]+)*)\r?$|(?<![\w-])privkey:(?<v2>[0-9a-f]{64})(?![\w-])/gm,
    needs: { words: ['ed25519', 'BORG_KEY', 'privkey:'] },
  },
  {
    id: 'credential-assignment',
    description: 'coturn user password',
    // coturn's long-term users in turnserver.conf: `user=NAME:PASSWORD` (or its key, `0x…`).
    file: /^turnserver\.conf$/,
    pattern: /^[ \t]*user[ \t]*=[ \t]*[^\s:#]+:(?<v>\S+)/gm,
    accept: (g) => isValue(g.v),
  },
  {
    id: 'credential-assignment',
    description: 'CouchDB admin password',
    // An `[admins]` section of CouchDB's local.ini (/opt/couchdb/etc/local.ini, 1.x's
    // /etc/couchdb/local.ini): `NAME = PASSWORD`, in the clear until CouchDB hashes it.
    // Speed (session 37): as the Jetty rule's above, the key to its first `=` at once and the value
    // in steps of whole runs of blanks; and a start whose value fails takes its key and `=` with it
    // (the optional value, none), one whose line has no `=` the line (the second alternative): a
    // later start after a `\r` of it (`^` stands there under `m`, and the key runs over it) reaches
    // the same `=` and the same value. It was cubic: 16 KB 36 s (sdk/test/secret-rules-linear.test.ts).
    pattern: /^[ \t]*(?:[^\s=;#[][^=\n]*=(?:[ \t]*(?<v>[^\s;](?:(?=(?<w>[ \t]*))\k<w>[^ \t\n])*?)[ \t]*\r?$)?|[^\s=;#[][^=\n]*)/gm,
    hint: ['[admins]'],
    needs: { words: ['='], lines: true },
    accept: (g, text, at, marks) => {
      if (!isValue(g.v)) return false
      // The section the line is in: the nearest line above that starts with `[` (looked up, session 32).
      const header = marks.lastIndexOf('\n[', at)
      const start = header < 0 ? (text.startsWith('[') ? 0 : -1) : header + 1
      if (start < 0 || start >= at) return false
      return marks.once(`couchdb-admins:${start}`, () => {
        const end = text.indexOf('\n', start)
        return /^\[admins\][ \t]*\r?$/.test(text.slice(start, end < 0 ? text.length : end))
      })
    },
  },
  {
    id: 'password-hash',
    description: "ZNC user's password hash",
    // ZNC's znc.conf: a user's `<Pass password>` block (`Method`, `Hash`, `Salt`).
    pattern: /<Pass[ \t]+[^>\n]*>(?<v>[^<]*?\b(?:Hash|Salt)[ \t]*=[^<]*?)<\/Pass>/g,
    needs: { words: ['<Pass'] },
  },
  // Session 33: what a Debian or Ubuntu server's hunt found passed over.
  {
    id: 'credential-assignment',
    description: 'NTP or chrony symmetric key',
    // A key file's lines, `ID TYPE KEY` (chrony.keys(5), ntp.keys(5)): `1 SHA256 HEX:…`, `10 MD5
    // ASCII:…`, ntp's `1 M password`; in whatever file `keyfile`/`keys` names (/etc/ntp/keys,
    // /etc/chrony/my.keys), not only the paths the files provider holds out. The whole line is the
    // key's and nothing else: a number, a known type, one word. Only in a file whose name says key
    // (`keys`, `ntp.keys`, `my.keys`, `ntpkey.txt`): a line-start search of every text cost about 2%
    // of the detector over /etc (7.7–8.6 ms of 3.4 MB a pass, load 9–10).
    file: /key/i,
    pattern: /^[ \t]*\d{1,10}[ \t]+(?:M|MD5|SHA|SHA1|SHA224|SHA256|SHA384|SHA512|SHA3-224|SHA3-256|SHA3-384|SHA3-512|RMD160|TIGER|WHIRLPOOL|AES128|AES256|AES128CMAC|AES256CMAC|AES-128-CMAC|AES-256-CMAC|CMAC)[ \t]+(?:(?:HEX|ASCII):)?(?<v>[^\s#]{4,})[ \t]*(?:#[^\r\n]*)?\r?$/gm,
    accept: (g) => isValue(g.v),
  },
  {
    id: 'credential-assignment',
    description: 'SNMPv3 localized key',
    // net-snmp's persistent file (/var/lib/snmp/snmpd.conf) keeps each user as `usmUser … AUTHPROTO
    // 0xAUTHKEY PRIVPROTO 0xPRIVKEY …` once createUser's line is read: the keys localized to this
    // engine, which stand in for the passwords against it.
    pattern: /^[ \t]*usmUser\b[^\r\n]*?[ \t]\.?1\.3\.6\.1\.6\.3\.10\.1\.1\.\d+[ \t]+(?<v>0x[0-9A-Fa-f]{8,}(?:[ \t]+\.?1\.3\.6\.1\.6\.3\.10\.1\.2\.\d+[ \t]+0x[0-9A-Fa-f]*)?)/gm,
    needs: { words: ['usmUser'], lines: true },
  },
  {
    id: 'credential-assignment',
    description: 'pppd password option',
    // pppd's `password PASSWORD` option given on its command line (`pppd call isp user bob password
    // …`), as a process list shows it; its files' `password` lines are the password directive's.
    pattern: /[ \t]password[ \t]+(?:"(?<v1>[^"\n]+)"|'(?<v2>[^'\n]+)'|(?<v3>[^\s"']+))/g,
    needs: { words: ['pppd'], lines: true },
    accept: (g, text, at, marks) => {
      if (!isValue(g.v1 ?? g.v2 ?? g.v3)) return false
      const start = marks.lastIndexOf('\n', at) + 1
      return marks.once(`pppd:${start}`, () => {
        const end = text.indexOf('\n', at)
        return /(?:^|[\s/])pppd[ \t]/.test(text.slice(start, end < 0 ? text.length : end))
      })
    },
  },
  // Session 34: Redis commands that carry a password, where a program logs or runs them.
  {
    id: 'credential-assignment',
    description: 'Redis AUTH, CONFIG SET requirepass or MIGRATE AUTH password',
    // `AUTH password`, `AUTH user password`, `HELLO 3 AUTH user password`, `MIGRATE host port key
    // db timeout AUTH password` / `AUTH2 user password`, `CONFIG SET requirepass|masterauth
    // password`, `SENTINEL SET master auth-pass password`: as an application's log writes a
    // command (`redis: > AUTH …`, MONITOR's quoted `"AUTH" "…"`, ioredis' debug `-> auth([ '…' ])`
    // and `hello([ '3', 'AUTH', '…', '…' ])`),
    // as redis-cli takes it after its options (`redis-cli -h db AUTH …`, a process's command line, a
    // cron line, a script's here-document) and in redis-cli's history file. The words are common
    // elsewhere (SMTP's `AUTH PLAIN`, `AUTH failed`), so only on a line that says Redis (`redis` in
    // any case, MIGRATE, CONFIG SET, SENTINEL SET, MONITOR's quoted command), a command alone on
    // its line in a text that runs redis-cli, or in ~/.rediscli_history; a mechanism's
    // name or a word of prose after AUTH is none. The user name of a two-word AUTH goes with it.
    pattern: redisCommand(),
    needs: { words: ['auth', 'requirepass'], lines: true },
    accept: (g, text, at, marks) => {
      if (!isRedisPassword(g)) return false
      // Session 35: what says Redis without its name: the inline protocol's written end of line (`AUTH pw\r\n`),
      // the command as a list of its own (`['AUTH', 'pw']`), the ACL's `default` user, a log's `command AUTH …`.
      if (g.nl !== undefined || isRedisAuthForm(g, text, at)) return true
      const start = marks.lastIndexOf('\n', at) + 1
      // A command alone on its line in a text that runs redis-cli (its here-document, `redis-cli <<EOF` / `AUTH …`;
      // not /etc/services' `auth 113/tcp`, which names redis too).
      if (at - start < 64 && /^[ \t]*$/.test(text.slice(start, at)) && marks.once('redis-cli', () => /redis-cli/i.test(text))) return true
      return marks.once(`redis:${start}`, () => {
        const end = text.indexOf('\n', at)
        return REDIS_LINE.test(text.slice(start, end < 0 ? text.length : end))
      })
    },
  },
  {
    id: 'credential-assignment',
    description: 'Redis AUTH, CONFIG SET requirepass or MIGRATE AUTH password',
    // Session 35: AUTH in Redis' own protocol (RESP), as a script writes it for `nc` or a log dumps a
    // request: `*2\r\n$4\r\nAUTH\r\n$8\r\npassword\r\n` (the user's bulk string and the
    // password's in `*3…`), its line ends written or real. No other protocol says `$4` AUTH.
    pattern: /\$4(?:\\r\\n|\r?\n)AUTH(?:\\r\\n|\r?\n)\$\d{1,4}(?:\\r\\n|\r?\n)(?<v>[^\\\r\n]+(?:(?:\\r\\n|\r?\n)\$\d{1,4}(?:\\r\\n|\r?\n)[^\\\r\n$*]+)?)/g,
    needs: { words: ['AUTH'] },
    accept: (g) => isValue(g.v),
  },
  {
    id: 'credential-assignment',
    description: 'Redis AUTH, CONFIG SET requirepass or MIGRATE AUTH password',
    // redis-cli's history (~/.rediscli_history): redis-cli before 6.2 kept AUTH and CONFIG SET in it.
    file: /^\.rediscli_history$/,
    pattern: redisCommand(),
    needs: { words: ['auth', 'requirepass'], lines: true },
    accept: (g) => isRedisPassword(g),
  },
  // Session 34: a name typed at a login prompt that is no user here, in a log.
  {
    id: 'unknown-user-name',
    description: 'name given at a login that is no user here (perhaps a password typed as the name)',
    // sshd logs the name a client gave for an account that does not exist (`Invalid user X from
    // H port P`, `Failed password for invalid user X from …`, `input_userauth_request: invalid
    // user X [preauth]`, `Connection closed by invalid user X H port P`, `Disconnected from
    // invalid user X …`, OpenSSH's older `illegal user`), and so do pam_unix with `audit` (`check
    // pass; user (X) unknown`), pam_sss (`received for user X: 10 (User not known…)`), Dovecot's
    // passdbs (`pam(X,H): unknown user`) and ProFTPD (`USER X: no such user found`). A person who
    // types the password at PuTTY's `login as:` prompt puts it there, seconds before an
    // `Accepted password for` line naming the account. Debian's own tools hide such names where
    // others may read them: login writes `FOR 'UNKNOWN'` (login.defs' LOG_UNKFAIL_ENAB, off by
    // default: "unknown usernames may become world readable"), pam_unix writes `check pass; user
    // unknown` unless told `audit` ("the user has given a password instead of a username"). Every
    // such name is held out, whatever it looks like: measured against the names of real attacks
    // (loghub's OpenSSH sample and fail2ban's sshd logs, 66 names, 411 times) and John the
    // Ripper's password.lst (3,545 passwords), a shape heuristic (a sign, or 8 characters of three
    // classes, or 12 of letters and digits) marked no attacker's name but let 3,535 of the
    // passwords through (`dragon`, `letmein`, `bob1985`…), and a list of names scanners try
    // (admin, test, ubuntu, oracle, postgres…) let 27 through (`admin1`, `test123`, `guest`…). What
    // is left says an attempt was made, from where, how often. Only in logs (a log tail, which the
    // logs facts screen without a path, /var/log, the twin's system/logs): fail2ban's filters hold
    // the same words with a pattern for the name.
    place: /^$|(?:^|\/)(?:var\/log|system\/logs)\//,
    pattern: unknownUser(),
    needs: { words: ['nvalid user', 'llegal user', 'user (', 'received for user', 'unknown user', 'no such user'], lines: true },
    // ProFTPD's alternative has no group: its whole match is the name.
    accept: (g) => (g.v ?? g.v1 ?? g.v2 ?? g.v3 ?? 'USER').trim() !== '',
  },
  {
    id: 'unknown-user-name',
    description: 'name given at a login that is no user here (perhaps a password typed as the name)',
    // Session 35: pam_unix with `audit` also ends its `authentication failure; logname= … rhost=H
    // user=X` line (and sshd its `PAM N more authentication failures; … user=X`) with that name. The
    // line is the same for a user who exists, so the name is held where the same log says it is no
    // user to the same process (the rule above: `check pass; user (X) unknown` just before it, sshd's
    // `Invalid user X`): the names the rule above holds, found once a text, with their lines' process.
    place: /^$|(?:^|\/)(?:var\/log|system\/logs)\//,
    // The line's last field (a name of at most 300 characters, as the rule above); what precedes it on
    // its line looked at for at most 400 characters (a line of many `user=` stays linear).
    // Session 38: the name was `[^\r\n]{1,300}?` before the line's end, whose blanks every one of its
    // 300 ends searched again (`user=a`, 64 KB of tabs, `b`: 0.65 s, O(300 x the run)). The shortest
    // name before blanks and a line's end is its first character, then every run of blanks that a
    // character other than a line's end follows, with that character: taken greedily, one way only.
    // A name over 300 characters is turned away; every start up to 306 characters before its end
    // finds the same end (no line's end lies between), so the search goes on there (`again`).
    pattern: /[ \t]user=(?<v>[^\r\n](?:[ \t]*[^ \t\r\n\u2028\u2029])*)[ \t]*\r?$/gm,
    needs: { words: ['authentication failure'], lines: true },
    again: (g, _text, at) => g.v !== undefined && g.v.length > 300 && at + 6 + g.v.length - 306,
    accept: (g, text, at, marks) =>
      g.v !== undefined &&
      g.v.length <= 300 &&
      /\bauthentication failures?;/.test(text.slice(Math.max(marks.lastIndexOf('\n', at) + 1, at - 400), at)) &&
      marks.once('unknown-user-names', () => unknownNames(text, marks)).has(`${processOf(text, marks.lastIndexOf('\n', at) + 1)}\0${g.v}`),
  },
  // Session 32: programs' own files, where a key names a secret whatever its value looks like.
  {
    id: 'credential-assignment',
    description: 'Mattermost secret setting',
    // Mattermost's config.json (/opt/mattermost/config, outside the default include set; a person
    // may include it): its database DSNs (`SqlSettings.DataSource`, the replicas' lists), the keys
    // and salts it makes at first start (`AtRestEncryptKey`, `PublicLinkSalt`, older
    // `InviteSalt`/`PasswordResetSalt`: 32 characters of no shape), the image proxy's shared key,
    // and every password and secret setting, any value but an empty one.
    place: /(?:^|\/)mattermost\/(?:[^/]+\/)*[^/]+\.json$/i,
    // Session 33: the same file kept elsewhere (/opt/mm/config/config.json, /etc/mattermost-server/,
    // a container's volume), known by the three sections every Mattermost config has.
    shape: MATTERMOST_SHAPE,
    pattern:
      /"(?:DataSource|DataSourceReplicas|DataSourceSearchReplicas|AtRestEncryptKey|PublicLinkSalt|InviteSalt|PasswordResetSalt|RemoteImageProxyOptions|[A-Za-z0-9]*(?:Password|Secret|SecretAccessKey)|GoogleDeveloperKey)"[ \t]*:[ \t]*(?:"(?<v>(?:[^"\\\r\n]|\\.)+)"|(?<v1>\[[^[\]]*"(?:[^"\\\r\n]|\\.)+"[^[\]]*\]))/g,
  },
  {
    id: 'credential-assignment',
    description: 'Xray or V2Ray user id or key',
    // Xray's and V2Ray's configs (/etc/xray, /usr/local/etc/xray, /etc/v2ray…, a `-confdir`'s
    // *.json): a VLESS or VMess user's `id` (a UUID, or any string Xray maps to one) is the
    // user's whole credential, in `clients` of an inbound and `users` of an outbound; Trojan's and
    // Shadowsocks' `password`, a SOCKS or HTTP account's `pass`, REALITY's `privateKey`, a
    // WireGuard outbound's `secretKey` and `preSharedKey`, mKCP's `seed`, MTProto's `secret`.
    // Session 33: REALITY's `shortIds` (a server's list; a client's `shortId`: with the public key
    // they are what a client needs), its `mldsa65Seed`, VLESS Encryption's server `decryption`
    // (its private keys; `none` is none), V2Ray QUIC's `key`, a TLS certificate's inline `key`
    // (a list of PEM lines). A list is redacted with its brackets; a list of empty ids only is none.
    place: XRAY_CONFIG,
    shape: XRAY_SHAPE,
    pattern: /"(?<k>id|password|pass|privateKey|secretKey|preSharedKey|seed|secret|shortIds?|mldsa65Seed|decryption|key)"[ \t]*:[ \t]*(?:"(?<v>(?:[^"\\\r\n]|\\.)+)"|(?<v1>\[(?:[ \t\r\n,]*"(?:[^"\\\r\n]|\\.)*")+[ \t\r\n,]*\]))/g,
    // A list (of strings, nothing else) with some string that is not empty.
    accept: (g) => (g.v1 !== undefined ? [...g.v1.matchAll(/"((?:[^"\\]|\\.)*)"/g)].some((m) => m[1] !== '') : g.k !== 'decryption' || g.v !== 'none'),
  },
  {
    id: 'credential-assignment',
    description: 'Xray or V2Ray user id or key',
    // The same keys in Xray's YAML and TOML configs (config.yaml, config.toml: Xray reads either by
    // its extension): `id: UUID`, `- id: "UUID"`, `privateKey = "…"`, quoted (then up to a
    // comment) or not (then to the line's end, a comment too: YAML's `pass#word` is one value).
    place: XRAY_CONFIG,
    shape: XRAY_SHAPE,
    pattern:
      /^[ \t]*(?:-[ \t]+)?["']?(?<k>id|password|pass|privateKey|secretKey|preSharedKey|seed|secret|shortId|mldsa65Seed|decryption|key)["']?[ \t]*[:=][ \t]*(?:(?:"(?<v>(?:[^"\\\r\n]|\\.)+)"|'(?<v1>[^'\r\n]+)')[ \t]*(?:#[^\r\n]*)?|(?<v2>[^\s"'[{#|>&*!][^\r\n]*))\r?$/gm,
    accept: (g) => {
      const v = g.v ?? g.v1 ?? g.v2
      return isValue(v) && !(g.k === 'decryption' && v === 'none')
    },
  },
  {
    id: 'credential-assignment',
    description: 'Xray or V2Ray user id or key',
    // YAML's and TOML's lists: `shortIds: ["", "6ba85179e30d4fc2"]`, `shortIds = [ … ]` over
    // lines, YAML's block of `- "…"` items below `shortIds:`, a certificate's `key` of PEM lines.
    place: XRAY_CONFIG,
    shape: XRAY_SHAPE,
    pattern: /^[ \t]*["']?(?:shortIds|key)["']?[ \t]*[:=][ \t]*(?:(?<v>\[[^[\]]*\])|(?:#[^\r\n]*)?\r?\n(?<v1>(?:[ \t]*-[ \t]+[^\r\n]*(?:\r?\n|$))+))/gm,
    // Some id that is not empty.
    accept: (g) => /[^\s"'[\],\-]/.test(g.v ?? g.v1 ?? ''),
  },
  // Session 34: sing-box, the other proxy platform of the same servers, in its own keys.
  {
    id: 'credential-assignment',
    description: 'sing-box user id, password or key',
    // sing-box's configs (/etc/sing-box/config.json, `-C`'s folder of *.json; anywhere by its
    // shape): a VLESS, VMess or TUIC user's `uuid` (the user's whole credential, in an inbound's
    // `users` and an outbound's own), REALITY's `private_key` and `short_id` (a server's list, a
    // client's string), WireGuard's `private_key` and `pre_shared_key`, the `password` of Trojan,
    // Shadowsocks, ShadowTLS, Hysteria 2 (and its `obfs` object's), TUIC, Naive, AnyTLS, SOCKS,
    // HTTP and SSH, Hysteria's `auth`, `auth_str` and its `obfs` string, an SSH key's
    // `private_key_passphrase`, the Clash API's `secret`, Tailscale's `auth_key`, DERP's
    // `mesh_psk`, ACME's `mac_key`, `api_token` and `access_key_secret`, an inline TLS or ECH
    // `key` (a list of PEM lines): any value but an empty one. A list is redacted with its
    // brackets; a list of empty short ids only is none. A public key is no secret.
    place: SING_BOX_CONFIG,
    shape: SING_BOX_SHAPE,
    pattern:
      /"(?:uuid|password|private_key|pre_shared_key|short_id|auth|auth_str|obfs|private_key_passphrase|secret|mesh_psk|psk|key|mac_key|api_token|access_key_secret|auth_key)"[ \t]*:[ \t]*(?:"(?<v>(?:[^"\\\r\n]|\\.)+)"|(?<v1>\[(?:[ \t\r\n,]*"(?:[^"\\\r\n]|\\.)*")+[ \t\r\n,]*\]))/g,
    // A list (of strings, nothing else) with some string that is not empty.
    accept: (g) => g.v1 === undefined || [...g.v1.matchAll(/"((?:[^"\\]|\\.)*)"/g)].some((m) => m[1] !== ''),
  },
  // Session 35: Clash, Clash.Meta and mihomo, the YAML proxy platform of the same servers and desktops.
  {
    id: 'credential-assignment',
    description: 'Clash or mihomo user id, password or key',
    // Clash's, Clash.Meta's and mihomo's configs (/etc/mihomo, /etc/clash, ~/.config/clash…; anywhere
    // by their shape), their `proxies` (a subscription's file too) and a server's `listeners`: a VMess,
    // VLESS or TUIC `uuid` (the user's whole credential), the `password` of Shadowsocks, Trojan,
    // Hysteria 2, TUIC, SOCKS, HTTP, mieru and ShadowTLS's plugin-opts, Hysteria's `auth-str`,
    // `auth` and `obfs` string, Hysteria 2's `obfs-password`, TUIC v4's `token`, WireGuard's
    // `private-key` and `pre-shared-key`, REALITY's `short-id` (a client's string, a server's list)
    // and `private-key`, Snell's `psk`, SSR's `protocol-param`, an SSH proxy's `private-key` and
    // `private-key-passphrase`, the external controller's `secret`: any value but an empty one;
    // an `obfs` that names a method (Hysteria 2's `salamander`, SSR's `tls1.2_ticket_auth`…) is none.
    // A line's own key, up to the line's end (a comment too: `pass#word` is one value).
    place: CLASH_CONFIG,
    shape: CLASH_SHAPE,
    pattern: new RegExp(String.raw`^[ \t]*(?:-[ \t]+)?["']?(?<k>${CLASH_KEYS})["']?[ \t]*:[ \t]+(?:"(?<v>(?:[^"\\\r\n]|\\.)+)"|'(?<v1>[^'\r\n]+)'|(?<v2>[^\s"'#|>&*!{][^\r\n]*))`, 'gm'),
    accept: (g) => isClashSecret(g.k, g.v ?? g.v1 ?? g.v2),
  },
  {
    id: 'credential-assignment',
    description: 'Clash or mihomo user id, password or key',
    // The same keys in a flow mapping, a subscription's one line a proxy (`- {name: a, type: vmess,
    // server: …, uuid: …, alterId: 0}`): a plain value ends at its `,` or `}`. Speed (session 37):
    // a plain value goes in steps of whole runs of blanks, as the Jetty rule's (lazy over a run of
    // blanks, each end tried to the run's end: `{psk:a` and 16 KB of tabs took 0.7 s).
    place: CLASH_CONFIG,
    shape: CLASH_SHAPE,
    pattern: new RegExp(String.raw`[{,][ \t]*["']?(?<k>${CLASH_KEYS})["']?[ \t]*:[ \t]*(?:"(?<v>(?:[^"\\\r\n]|\\.)+)"|'(?<v1>[^'\r\n]+)'|(?<v2>[^\s"',{}[\]](?:(?=(?<w>[ \t]*))\k<w>[^ \t,{}\r\n])*?))[ \t]*(?=[,}])`, 'g'),
    accept: (g) => isClashSecret(g.k, g.v ?? g.v1 ?? g.v2),
  },
  {
    id: 'credential-assignment',
    description: 'Clash or mihomo user id, password or key',
    // The proxy's own users: `authentication: ["user:pass", …]` (or a block of `- "user:pass"`), and a
    // Hysteria 2 or TUIC listener's `users:` map of name to password (a block of `NAME: PASSWORD`).
    place: CLASH_CONFIG,
    shape: CLASH_SHAPE,
    pattern:
      /^authentication[ \t]*:[ \t]*(?:(?<v>\[[^\r\n]*\])|(?:#[^\r\n]*)?\r?\n(?<v1>(?:[ \t]*-[ \t]+[^\r\n]*(?:\r?\n|$))+))|^(?<i>[ \t]*)users[ \t]*:[ \t]*\r?\n(?<v2>(?:\k<i>[ \t]+[^\s#\-][^:\r\n]*:[ \t]+[^\s{[|>][^\r\n]*(?:\r?\n|$))+)/gm,
    needs: { words: ['authentication', 'users'] },
    accept: (g) => /[^\s"'[\],\-]/.test(g.v ?? g.v1 ?? g.v2 ?? ''),
  },
  {
    id: 'credential-assignment',
    description: 'Clash or mihomo subscription URL',
    // A proxy provider's `url` (`proxy-providers:` → `NAME:` → `url: https://sub…/api/v1/client/
    // subscribe?token=…`, `…/link/TOKEN?clash=1`): the subscription that hands out every proxy's
    // credentials, its path and query after the host. Not a provider's `health-check` url, nor
    // a rule provider's or a group's.
    place: CLASH_CONFIG,
    shape: CLASH_SHAPE,
    pattern: /^(?<i>[ \t]+)url[ \t]*:[ \t]*["']?https?:\/\/[^/\s"'?#]+(?<v>[/?][^\s"'#]*[^\s"'#/])/gm,
    needs: { words: ['proxy-providers'] },
    accept: (_g, text, at, marks) => {
      const top = marks.lastLineStartingWith(/[^\s#\-]/, at + 1)
      return top >= 0 && text.startsWith('proxy-providers', top) && !clashParentIs(text, at, 'health-check')
    },
  },
  {
    id: 'credential-assignment',
    description: 'Clash or mihomo subscription URL',
    // Session 36: the same url in a flow mapping (`proxy-providers: {airport: {type: http, url:
    // "https://x/link/TOKEN?clash=1"}}`, or a block's `  airport: {type: http, url: …}`): its path and
    // query after the host. Not a flow `health-check: {…, url: …}`'s (clashFlowParent).
    place: CLASH_CONFIG,
    shape: CLASH_SHAPE,
    pattern: /[{,][ \t]*["']?url["']?[ \t]*:[ \t]*["']?https?:\/\/[^/\s"'?#,{}]+(?<v>[/?][^\s"'#,{}]*[^\s"'#,{}/])/g,
    needs: { words: ['proxy-providers'] },
    accept: (_g, text, at, marks) => {
      const top = marks.lastLineStartingWith(/[^\s#\-]/, at + 1)
      if (top < 0 || !text.startsWith('proxy-providers', top)) return false
      // The line's start looked up (a 1 MB line of urls: no walk back to it from each).
      const lineStart = marks.lastIndexOf('\n', at) + 1
      return clashFlowParent(text, at, lineStart) !== 'health-check' && !clashParentIs(text, lineStart, 'health-check')
    },
  },
  {
    id: 'credential-assignment',
    description: 'Asterisk password or PIN',
    // Asterisk's configs (/etc/asterisk): a peer's or user's `secret=` (sip.conf, iax.conf,
    // manager.conf, users.conf), `md5secret=`, PJSIP's `password=` and `md5_cred=`, a voicemail
    // box's `vmsecret=`, a database's `dbpass=`, ConfBridge's `pin=`/`admin_pin=`: any value, a
    // PIN of digits too (the rules elsewhere want a value of some shape). Up to a `;` comment.
    place: /(?:^|\/)etc\/asterisk\//,
    pattern: /^[ \t]*(?:secret|md5secret|remotesecret|password|md5_cred|vmsecret|dbpass|dbpassword|pin|admin_pin|adminpin)[ \t]*=>?[ \t]*(?<v>[^\s;]+)/gm,
    accept: (g) => isValue(g.v),
  },
  {
    id: 'credential-assignment',
    description: 'Asterisk voicemail or conference PIN, trunk registration password',
    // voicemail.conf's mailboxes (`1234 => 4242,Name,mail`; `-4242`: the user may not change it),
    // MeetMe's rooms (`conf => 1234,PIN,ADMINPIN`), sip.conf's and iax.conf's registrations with a
    // provider (`register => [transport://]user[@domain]:SECRET[:authuser]@host…`).
    place: /(?:^|\/)etc\/asterisk\//,
    pattern:
      /^[ \t]*(?:\d+[ \t]*=>[ \t]*-?(?<v>[^,\s;]+)|conf[ \t]*=>[ \t]*[^,\s;]+,(?<v1>[^,\s;]+(?:,[^,\s;]+)?)|register[ \t]*=>[ \t]*(?:[a-z]+:\/\/)?[^:@\s/;]+(?:@[^:@\s/;]+)?:(?<v2>[^:@\s;]+)(?::[^@\s;]+)?@)/gm,
    accept: (g) => isValue(g.v ?? g.v1 ?? g.v2),
  },
]

/**
 * Whether the JSON object around `at` (the innermost `{` before it whose `}` is after it, braces
 * counted) says `"kind": "Secret"` (quotes perhaps escaped): a Kubernetes Secret written as JSON.
 */
function isKindSecret(text: string, at: number): boolean {
  let depth = 0
  let open = -1
  for (let i = at - 1; i >= 0 && i >= at - 100_000; i--) {
    const c = text[i]
    if (c === '}') depth++
    else if (c === '{') {
      if (depth === 0) {
        open = i
        break
      }
      depth--
    }
  }
  if (open < 0) return false
  // The object's own keys: what lies at depth 1 from its `{` to its `}`.
  let own = ''
  depth = 0
  for (let i = open; i < text.length && i < open + 1_000_000; i++) {
    const c = text[i]
    if (c === '{') depth++
    else if (c === '}') {
      depth--
      if (depth === 0) break
    } else if (depth === 1) own += c
  }
  return /\\{0,3}"kind\\{0,3}"[ \t\r\n]*:[ \t\r\n]*\\{0,3}"Secret\\{0,3}"/.test(own)
}
/**
 * The names a login was given for accounts that do not exist, as sshd, pam_unix (`audit`),
 * pam_sss, Dovecot and ProFTPD log them (the unknown-user-name rule; ProFTPD's has no group: its
 * whole match is the name).
 *
 * Speed and denial of service (session 37): sshd's end was ` from HOST[ \t]*(?:\[preauth\])?[ \t]*\]?`,
 * two runs of blanks side by side split every way, and the name's end at a line's end was tried
 * at each of its 300 characters over the rest of a run of blanks: a log line of `invalid user d
 * from E` and 16 KB of blanks took 3 s, 64 KB 30–43 s. Now `[ \t]*(?:\[preauth\][ \t]*)?` (the same
 * texts) and the line's end asked only where a run of blanks begins (wherever else within a run
 * it holds, it holds at the run's start, an earlier end of the lazy name): 1 MB in 0.1 s, the same
 * matches (sdk/test/secret-rules-linear.test.ts).
 */
function unknownUser(): RegExp {
  return /\b(?:[Ii]nvalid|illegal) user (?<v>\S[^\r\n]{0,299}?)(?= from \S+ port \d| from \S+[ \t]*(?:\[preauth\][ \t]*)?\]?\r?$| \S+ port \d| \[preauth\]|(?<![ \t])[ \t]*\r?$)|\bcheck pass; user \((?<v1>[^)\r\n]{1,300})\) unknown|\breceived for user (?<v2>[^\r\n]{1,300}?): 10 \(User not known|\b(?:pam|passwd-file|passwd|shadow|sql|ldap|checkpassword|bsdauth|lua)\((?<v3>[^,()\r\n]{1,300}),[^()\r\n]*\): unknown user\b|(?<=\bUSER )\S[^\r\n]{0,299}?(?=: no such user found from\b)/gm
}

/**
 * The names unknownUser() finds in a text (once a text, marks.once), trimmed as pam_unix's `user=`
 * ends, each with the process id its line names (`sshd[903]:`; `-` for none): a name one process
 * was told is no user is only that process's (sshd's `invalid user root` of a root not allowed in
 * is another login's `user=root`).
 */
function unknownNames(text: string, marks: TextMarks): Set<string> {
  const names = new Set<string>()
  for (const m of text.matchAll(unknownUser())) {
    const name = (m.groups?.v ?? m.groups?.v1 ?? m.groups?.v2 ?? m.groups?.v3 ?? m[0]).trim()
    if (name !== '') names.add(`${processOf(text, marks.lastIndexOf('\n', m.index) + 1)}\0${name}`)
  }
  return names
}

/** The process id a log line beginning at `start` names (`sshd[903]:`, in its first 200 characters), or `-`. */
function processOf(text: string, start: number): string {
  return /^[^\n[]{0,200}\[(\d{1,10})\]:/.exec(text.slice(start, start + 220))?.[1] ?? '-'
}
/** Xray's and V2Ray's configs: *.json (and `-confdir`'s), *.jsonc, *.yaml, *.yml, *.toml below /etc/xray, /etc/v2ray, /usr/local/etc/… */
const XRAY_CONFIG = /(?:^|\/)etc\/(?:xray|v2ray)\/(?:[^/]+\/)*[^/]+\.(?:jsonc?|ya?ml|toml)$/
/**
 * An Xray or V2Ray config kept elsewhere (/opt/xray, a container's volume; session 33): its
 * `inbounds` (or `outbounds`) and a VLESS, VMess or Trojan `protocol`, in JSON, YAML or TOML.
 */
const XRAY_SHAPE: Shape = { file: /\.(?:jsonc?|ya?ml|toml)$/, holds: [/bounds["']?[ \t]*[:=\]]/, /\bprotocol["']?[ \t]*[:=][ \t]*["']?(?:vless|vmess|trojan)\b/] }
/** A line that speaks of Redis (REDIS_AUTH's rule): the word, its port and Sentinel's (session 35: `| nc db 6379`), its commands that take a password, MONITOR's quoted command. */
const REDIS_LINE = /redis|\b2?6379\b|\bMIGRATE\b|\bCONFIG\b["']?[ \t]+["']?SET\b|\bSENTINEL\b["']?[ \t]+["']?SET\b|"AUTH2?"[ \t]+"|\bHELLO[ \t]+\d[ \t]+AUTH\b/i
/**
 * A Redis AUTH known by its form where the line says nothing of Redis (session 35): the command as
 * a list of just itself (`['AUTH', 'pw']`, `("AUTH", "user", "pw")`: a client's arguments), `AUTH
 * default pw` (Redis 6's ACL user every server has; SMTP's and FTP's AUTH take a mechanism), or
 * AUTH right after `command` or `cmd` (`executing command AUTH pw`, `cmd=AUTH pw`). At most 16
 * characters looked at before the match.
 */
function isRedisAuthForm(g: Record<string, string | undefined>, text: string, at: number): boolean {
  const before = text.slice(Math.max(0, at - 16), at)
  // Not a list of commands (`('AUTH', 'HELLO', 'QUIT')`): no item a word of capitals; the command in capitals, each item a value (`.get("auth", "")` is none).
  if (g.v3 !== undefined) {
    const items = [...g.v3.matchAll(/"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'/g)].map((m) => m[1] ?? m[2] ?? '')
    return g.close !== undefined && /[[(][ \t]*$/.test(before) && /^["']AUTH/.test(text.slice(at, at + 5)) && items.every((i) => isValue(i) && !/^[A-Z]+$/.test(i))
  }
  if (g.v === undefined || !text.startsWith('AUTH', at)) return false
  return /^default[ \t]+\S/.test(g.v) || /\b(?:command|cmd)s?["']?[ \t]*[:=>]?[ \t]*["'[]?$/i.test(before)
}

/**
 * What follows AUTH that is no password: SASL and FTP mechanisms, prose, PAM's controls (`auth
 * required pam_unix.so`), in any case; and `scram-sha-…` with no blank. Speed (issue 22, session
 * 52): until then one expression (`^(?:plain|login|…|scram-sha-\S*|…)$`, ignoring case),
 * compiled to machine code (1.2 M instructions, callgrind) for the two words a first snapshot of
 * the minbase root asked it about; a set of the words is the same answer (ASCII letters in either
 * case, as the expression's `i`), checked against it in sdk/test/secret-expressions.test.ts.
 */
const REDIS_AUTH_NOT_A_VALUE = new Set(
  'plain login cram-md5 digest-md5 xoauth xoauth2 oauthbearer gssapi ntlm external anonymous tls ssl failed fail failure failures error errors ok success successful succeeded required from by at after denied invalid timeout timed is was with to for the and or not as on in of response reply command called sent using form option mechanism method sufficient requisite optional include substack'.split(' '),
)

/** Whether `word` says no password after AUTH (REDIS_AUTH_NOT_A_VALUE; exported for tests). */
export function isRedisAuthWord(word: string): boolean {
  let lower = ''
  for (let i = 0; i < word.length; i++) lower += String.fromCharCode(asciiLower(word.charCodeAt(i)))
  return REDIS_AUTH_NOT_A_VALUE.has(lower) || (lower.startsWith('scram-sha-') && !/\s/.test(lower))
}
/**
 * The Redis commands that carry a password (two rules: any line that speaks of Redis, redis-cli's history); made when a rule list is.
 * Session 35: a word stops at a written `\r` or `\n` (`printf 'AUTH pw\r\n' | nc …`: Redis' inline
 * protocol, `nl` says it follows); the command as a list (`['AUTH', 'pw']`, `["AUTH","pw"]`,
 * `close` says the list ends after it).
 */
function redisCommand(): RegExp {
  return /(?:\bAUTH2?|"AUTH2?")[ \t]+(?<v>(?:"(?:[^"\\\r\n]|\\.)*"|'[^'\r\n]*'|(?:[^\s"'()[\],\\]|\\(?![rn]))+)(?:[ \t]+(?!(?:KEYS|COPY|REPLACE)\b)(?:"(?:[^"\\\r\n]|\\.)*"|'[^'\r\n]*'|(?:[^\s"'()[\],\\]|\\(?![rn]))+))?)(?=(?<nl>\\[rn])|)|\bauth\(\[[ \t]*(?<v1>'(?:[^'\\\r\n]|\\.)*'(?:,[ \t]*'(?:[^'\\\r\n]|\\.)*')?)[ \t]*\]\)|(?:'AUTH2?'|"AUTH2?"),[ \t]*(?<v3>'(?:[^'\\\r\n]|\\.)*'(?:,[ \t]*'(?:[^'\\\r\n]|\\.)*')?|"(?:[^"\\\r\n]|\\.)*"(?:,[ \t]*"(?:[^"\\\r\n]|\\.)*")?)(?=(?<close>[ \t]*[\])])|)|\b(?:requirepass|masterauth|auth-pass)["']?[ \t]+(?<v2>"(?:[^"\\\r\n]|\\.)+"|'[^'\r\n]+'|[^\s"'()[\],]+)/gi
}

/**
 * Whether a match of redisCommand() holds a password: its first word not a placeholder, a
 * mechanism's name or a word of prose after AUTH, a second one (`AUTH user password`) no placeholder.
 */
function isRedisPassword(g: Record<string, string | undefined>): boolean {
  if (g.v1 !== undefined || g.v3 !== undefined) return true
  const words = [...(g.v ?? g.v2 ?? '').matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '')
  const [first = '', second] = words
  return isValue(first) && !isRedisAuthWord(first.replace(/[:;,.!]+$/, '')) && (second === undefined || !PLACEHOLDER.test(second))
}

/** A placeholder for a value: `<password>`, `$PASS`, `${PASS}`, `{{ pass }}`, `%s`, `***`. */
const PLACEHOLDER = /^(?:<[^>]*>|\$[{(]?[A-Za-z_]\S*|%[a-z]|\{\{[^}]*\}\}|\*+|x+|\.+)$/i
/** sing-box's configs: *.json (and `-C`'s folder), *.jsonc below /etc/sing-box or /usr/local/etc/sing-box. */
const SING_BOX_CONFIG = /(?:^|\/)etc\/sing-box\/(?:[^/]+\/)*[^/]+\.jsonc?$/
/**
 * A sing-box config kept elsewhere (/opt/sing-box, /root/sb, a container's volume; session 34):
 * its `inbounds`, `outbounds` or `endpoints` list and a proxy's `"type"` (sing-box says `type`
 * where Xray says `protocol`, so neither shape takes the other's configs).
 */
const SING_BOX_SHAPE: Shape = {
  file: /\.jsonc?$/,
  holds: [/"(?:inbounds|outbounds|endpoints)"[ \t\r\n]*:[ \t\r\n]*\[/, /"type"[ \t\r\n]*:[ \t\r\n]*"(?:vless|vmess|trojan|shadowsocks|shadowtls|hysteria2?|tuic|naive|anytls|wireguard|tailscale|socks|mixed|http|ssh)"/],
}
/** Clash's, Clash.Meta's and mihomo's configs: *.yaml, *.yml below /etc/mihomo, /etc/clash, /etc/clash-meta, ~/.config/mihomo, ~/.config/clash… (session 35). */
const CLASH_CONFIG = /(?:^|\/)(?:etc|\.config)\/(?:mihomo|clash|clash-meta|clash\.meta)\/(?:[^/]+\/)*[^/]+\.ya?ml$/
/**
 * A Clash or mihomo config kept elsewhere (/opt/clash, /root/mihomo, a container's volume, a
 * subscription's downloaded file; session 35): a top-level `proxies`, `proxy-providers` or
 * `listeners`, and `proxy-groups` or a proxy's `type` only these platforms name so (`ss`, `vmess`…).
 */
const CLASH_SHAPE: Shape = {
  file: /\.ya?ml$/,
  holds: [/^(?:proxies|proxy-providers|listeners)[ \t]*:/m, /^proxy-groups[ \t]*:|\btype[ \t]*:[ \t]*["']?(?:ss|ssr|vmess|vless|trojan|hysteria2?|tuic|wireguard|snell|socks5|anytls|mieru|shadowsocks)["']?[ \t]*(?:[,}#]|\r?$)/m],
}
/**
 * The keys of a Clash proxy's or listener's secrets, one list for the block rule and the flow
 * rule (session 36: each had its own copy).
 */
const CLASH_KEYS = 'uuid|password|private-key|pre-shared-key|secret|auth-str|auth|obfs|obfs-password|psk|token|short-id|private-key-passphrase|protocol-param'
/**
 * The key of the flow mapping a match at `at` (its `{` or `,`) stands in: the nearest `{` not
 * closed before it, on its line, at most 256 characters back (a bound: a line of many urls stays
 * linear); undefined when none is found so.
 */
function clashFlowParent(text: string, at: number, lineStart: number): string | undefined {
  const stop = Math.max(lineStart, at - 256)
  let depth = 0
  for (let i = at; i >= stop; i--) {
    const c = text.charCodeAt(i)
    if (c === 0x7d) depth++
    else if (c === 0x7b) {
      if (depth > 0) {
        depth--
        continue
      }
      return /["']?([\w.-]+)["']?[ \t]*:[ \t]*$/.exec(text.slice(Math.max(stop, i - 64), i))?.[1]
    }
  }
  return undefined
}
/** An `obfs` that names a method, not a password: Hysteria 2's, SSR's, a plugin's. */
const CLASH_OBFS_METHOD = /^(?:salamander|none|plain|tls|http|http_simple|http_post|random_head|tls1\.2_ticket_auth|tls1\.2_ticket_fastauth)$/i
/** Whether a Clash key's value (CLASH rules) is a secret: not empty, `~` or `null`, nor an obfs method; a list with some item. */
function isClashSecret(key: string | undefined, value: string | undefined): boolean {
  const v = (value ?? '').trim()
  if (v === '' || /^(?:~|null|""|''|\[[\s"',]*\])$/i.test(v)) return false
  return key !== 'obfs' || !CLASH_OBFS_METHOD.test(v)
}
/**
 * Whether the line the YAML line at `at` hangs from (the nearest above it indented less) is `name:`.
 * At most 32 lines looked at (a provider's entry is a few): a bound, so a text of many urls stays linear.
 */
function clashParentIs(text: string, at: number, name: string): boolean {
  const lineStart = text.lastIndexOf('\n', at) + 1
  const indent = /^[ \t]*/.exec(text.slice(lineStart, lineStart + 256))?.[0].length ?? 0
  let end = lineStart - 1
  for (let n = 0; n < 32 && end > 0; n++) {
    const start = text.lastIndexOf('\n', end - 1) + 1
    const line = text.slice(start, Math.min(end, start + 256))
    const own = /^[ \t]*/.exec(line)?.[0].length ?? 0
    if (line.trim() !== '' && !line.trimStart().startsWith('#') && own < indent) return line.trimStart().startsWith(`${name}:`)
    end = start - 1
  }
  return false
}
/** Mattermost's config.json anywhere (session 33): a *.json holding the three sections every one has. */
const MATTERMOST_SHAPE: Shape = { file: /\.json$/, holds: [/"SqlSettings"[ \t\r\n]*:[ \t\r\n]*\{/, /"ServiceSettings"[ \t\r\n]*:[ \t\r\n]*\{/, /"TeamSettings"[ \t\r\n]*:[ \t\r\n]*\{/] }

let handRulesMade: readonly HandRule[] | undefined
const allHandRules = (): readonly HandRule[] => (handRulesMade ??= makeHandRules())

function basename(path: string | undefined): string {
  if (path === undefined) return ''
  const i = path.lastIndexOf('/')
  return i < 0 ? path : path.slice(i + 1)
}

function lineStarts(text: string): number[] {
  const starts = [0]
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1)
  return starts
}

function position(starts: number[], offset: number): { line: number; column: number } {
  let lo = 0
  let hi = starts.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if ((starts[mid] as number) <= offset) lo = mid
    else hi = mid - 1
  }
  return { line: lo + 1, column: offset - (starts[lo] as number) + 1 }
}

interface Span {
  rule: string
  description: string
  start: number
  end: number
}

/**
 * Each rule's pattern as it is (for the search) and sticky with indices (for the place of a
 * match that counts). Speed (issue 22): asking for indices of every match made the search
 * several times slower where most matches are thrown away (a JSON document's every `"key":
 * "value"` line is a candidate assignment): the scale root's 8.6 MB files manifest took
 * 0.65–1.0 s to screen. The sticky one is made at the rule's first match that counts (session
 * 52): most rules a text is run through find nothing, and V8 parses an expression when it is
 * made (a first snapshot of the minbase root made 34 that no finding ever used, about 0.5 M
 * instructions; sdk/test/secret-expressions.test.ts).
 */
export interface RuleExpressions {
  search: RegExp
  /** Made by `placeOf` when first needed. */
  at?: RegExp
}

const COMPILED = new Map<RegExp, RuleExpressions>()

function compiled(pattern: RegExp): RuleExpressions {
  let both = COMPILED.get(pattern)
  if (both === undefined) {
    const flags = pattern.flags.replace(/[dy]/g, '')
    both = { search: new RegExp(pattern.source, flags.includes('g') ? flags : flags + 'g') }
    COMPILED.set(pattern, both)
  }
  return both
}

/** The pattern sticky with indices (`compiled`), made on first use. */
function placeOf(pattern: RegExp, both: RuleExpressions): RegExp {
  return (both.at ??= new RegExp(pattern.source, pattern.flags.replace(/[dgy]/g, '') + 'dy'))
}

/** A hand rule's expressions as made so far, or made now with `make` (for tests: the sticky one made at once, as before session 52, to compare). */
export function ruleExpressions(pattern: RegExp, make = false): RuleExpressions | undefined {
  return make ? compiled(pattern) : COMPILED.get(pattern)
}

const WORDS = new Map<HandRule, { hint: RuleNeeds | undefined; needs: RuleNeeds | undefined }>()

/**
 * A rule's `hint` and `needs` as words to look for, in any case wherever the rule's pattern
 * ignores case: one place decides, so no rule can be written with a hint in fewer cases than its
 * pattern matches (session 14 found three).
 */
export function wordsOf(rule: Pick<HandRule, 'pattern' | 'hint' | 'needs'>): { hint: RuleNeeds | undefined; needs: RuleNeeds | undefined } {
  const kept = WORDS.get(rule as HandRule)
  if (kept !== undefined) return kept
  const caseless = rule.pattern.ignoreCase
  const words = {
    hint: rule.hint === undefined ? undefined : { words: rule.hint, caseless },
    needs: rule.needs === undefined || !caseless || rule.needs.caseless === true ? rule.needs : { ...rule.needs, caseless: true },
  }
  WORDS.set(rule as HandRule, words)
  return words
}

/** The hand rules' ids, descriptions, patterns and words (for tests). */
export function handRules(): ReadonlyArray<Readonly<Pick<HandRule, 'id' | 'description' | 'pattern' | 'hint' | 'needs'>>> {
  return allHandRules()
}

function handSpans(text: string, path: string | undefined): Span[] {
  const spans: Span[] = []
  const marks = new TextMarks(text)
  const name = basename(path)
  const shapes = new Map<Shape, boolean>()
  for (const rule of rulesFor(text)) ruleSpans(rule, text, path, name, spans, marks, shapes)
  return spans
}

/**
 * Speed (issue 22, session 42): the rules a short text (a name, a symlink's target) is run
 * through, from the rules' words it holds. A rule with a `hint` reports nothing on a text
 * without one of its words, nor one with `needs` while the prefilters are on: so the words of
 * every rule are looked up once in the text, in any case (a superset of each rule's own search,
 * case-sensitive or not), and a rule one of whose lists has none there is not run (ruleSpans
 * asks the rest as before). A first snapshot asks the detector about every name of a folder it
 * lists and every symlink's target, one by one (the files provider's NameScreen): on the
 * services root 873 names, 746 of them holding no word (only the 24 rules without words run on
 * those, 21 of them bound to a file or place: rulesFor). Those names asked in a fresh process
 * after one: 457 → 301 M instructions (callgrind); the whole `snapshot --init` of the services
 * root 2,364–2,387 → 2,089–2,115 M (three runs each, node alone), minbase about 1,360 → 1,200–1,310 M.
 * A longer text is searched rule by rule as before: most hold a word somewhere, and V8 looks
 * for a rule's words natively.
 */
const WORDS_LOOKED_UP = 1024

/** The hand rules `text` is run through, in their order (for tests: handRules' objects). */
export function handRulesFor(text: string): ReadonlyArray<Readonly<Pick<HandRule, 'id' | 'description' | 'pattern' | 'hint' | 'needs'>>> {
  return rulesFor(text)
}

/** Every hand rule but those whose words a short text lacks. */
function rulesFor(text: string): readonly HandRule[] {
  if (text.length > WORDS_LOOKED_UP || !prefiltering()) return allHandRules()
  const present = wordsIn(text)
  const { wordless, gating } = wordGate()
  if (present.size === 0) return wordless
  return allHandRules().filter((rule) => gating.get(rule)?.every((list) => list.some((word) => present.has(word))) ?? true)
}

/** The rules' words (lower-cased) found in `text` in any case. */
function wordsIn(text: string): Set<string> {
  const { single, pairs } = wordGate()
  const found = new Set<string>()
  for (let i = 0; i < text.length; i++) {
    const c = asciiLower(text.charCodeAt(i))
    if (single.has(c)) found.add(String.fromCharCode(c))
    const words = pairs.get(c * 0x10000 + asciiLower(text.charCodeAt(i + 1)))
    if (words !== undefined) for (const word of words) if (startsCaseless(text, word, i)) found.add(word)
  }
  return found
}

/**
 * A character code with A–Z made a–z. Every word is ASCII (else no rule is gated), and a search
 * that ignores case without the `u` flag, as the rules' words are searched, matches an ASCII
 * character with its other case alone: no other character is lowered onto it (the Kelvin sign
 * is no `k` there).
 */
function asciiLower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c
}

/** Whether `lower` (lower-case ASCII) is at `at` in `text`, in any case. */
function startsCaseless(text: string, lower: string, at: number): boolean {
  if (at + lower.length > text.length) return false
  for (let j = 0; j < lower.length; j++) if (asciiLower(text.charCodeAt(at + j)) !== lower.charCodeAt(j)) return false
  return true
}

/**
 * Each rule's word lists that decide it (`hint`, `needs`; lower-cased), the rules without one,
 * and every such word: one-character ones, the rest by their first two characters.
 */
function wordGate(): WordGate {
  if (gate === undefined) {
    const wordless: HandRule[] = []
    const gating = new Map<HandRule, string[][]>()
    const single = new Set<number>()
    const pairs = new Map<number, string[]>()
    let ascii = true
    for (const rule of allHandRules()) {
      const { hint, needs } = wordsOf(rule)
      // A list with an empty word, or none, is held by every text (String.includes, an empty expression): it decides nothing.
      const deciding = [hint, needs].filter((list): list is RuleNeeds => list !== undefined && list.words.length > 0 && list.words.every((w) => w.length > 0))
      // eslint-disable-next-line no-control-regex
      if (deciding.some((list) => list.words.some((w) => !/^[\x00-\x7f]+$/.test(w)))) ascii = false
      const lists = deciding.map((list) => list.words.map((w) => w.toLowerCase()))
      if (lists.length === 0) wordless.push(rule)
      else gating.set(rule, lists)
      for (const word of lists.flat()) {
        if (word.length === 1) single.add(word.charCodeAt(0))
        else {
          const key = word.charCodeAt(0) * 0x10000 + word.charCodeAt(1)
          const same = pairs.get(key)
          if (same === undefined) pairs.set(key, [word])
          else if (!same.includes(word)) same.push(word)
        }
      }
    }
    gate = ascii ? { wordless, gating, single, pairs } : { wordless: allHandRules(), gating: new Map(), single, pairs }
  }
  return gate
}

interface WordGate {
  wordless: readonly HandRule[]
  gating: Map<HandRule, string[][]>
  single: Set<number>
  pairs: Map<number, string[]>
}

let gate: WordGate | undefined

/** Whether the text holds every one of a rule's `shape`, asked once a text for rules that share one (`shapes`). */
function hasShape(shape: Shape, text: string, shapes?: Map<Shape, boolean>): boolean {
  let has = shapes?.get(shape)
  if (has === undefined) {
    has = shape.holds.every((r) => r.test(text))
    shapes?.set(shape, has)
  }
  return has
}

/** One rule's matches in a text from `path` (its last component `name`), added to `spans`. */
function ruleSpans(rule: HandRule, text: string, path: string | undefined, name: string, spans: Span[], marks = new TextMarks(text), shapes?: Map<Shape, boolean>): void {
  if (rule.place !== undefined && !rule.place.test(path ?? '') && (rule.shape === undefined || !rule.shape.file.test(name) || !hasShape(rule.shape, text, shapes))) return
  if (rule.file !== undefined && !rule.file.test(name)) return
  if (rule.notFile !== undefined && rule.notFile.test(name)) return
  const { hint, needs } = wordsOf(rule)
  if (hint !== undefined && !holdsWord(text, hint)) return
  for (const [from, to] of partsToSearch(text, needs)) {
    const within = rule.within === undefined || !prefiltering() ? [[0, to - from] as const] : rule.within(from === 0 && to === text.length ? text : text.slice(from, to))
    for (const [a, b] of within) handPart(rule, text, from + a, from + b, spans, marks)
  }
}

/** One hand rule's findings in a text, as [start, end) of each value (for tests: a rule against an earlier expression of it). */
export function findingsOfRule(rule: Readonly<Pick<HandRule, 'id' | 'description' | 'pattern'>>, text: string, path?: string): Array<[number, number]> {
  const spans: Span[] = []
  ruleSpans(rule as HandRule, text, path, basename(path), spans)
  return spans.map((s) => [s.start, s.end])
}

/** The rule's matches in text[from, to), as spans of the whole text. */
function handPart(rule: HandRule, text: string, from: number, to: number, spans: Span[], marks: TextMarks): void {
  const part = from === 0 && to === text.length ? text : text.slice(from, to)
  const both = compiled(rule.pattern)
  const { search } = both
  search.lastIndex = 0
  for (let found = search.exec(part); found !== null; found = search.exec(part)) {
    if (found[0].length === 0) search.lastIndex++
    const groups = found.groups ?? {}
    if (rule.accept !== undefined && !rule.accept(groups, text, from + found.index, marks)) {
      const again = rule.again?.(groups, text, from + found.index, marks)
      if (again === true || typeof again === 'number') {
        search.lastIndex = typeof again === 'number' ? Math.max(found.index + 1, again - from) : found.index + 1
        continue
      }
      const value = groups.v1 ?? groups.v2 ?? groups.v3 ?? ''
      if (rule.searchValue === true && groups.k !== undefined && (value.includes('=') || value.includes(':'))) search.lastIndex = found.index + groups.k.length
      continue
    }
    // The same pattern from the same place finds the same match, now with its indices.
    const at = placeOf(rule.pattern, both)
    at.lastIndex = found.index
    const match = at.exec(part)
    // Should the two ever differ, the whole match is the secret's place (more redacted, never less).
    const whole: [number, number] = [found.index, found.index + found[0].length]
    const indices = match !== null && match[0] === found[0] ? match.indices : undefined
    const range = (['v', 'v1', 'v2', 'v3'] as const).map((g) => indices?.groups?.[g]).find((r) => r !== undefined) ?? indices?.[0] ?? whole
    if (range === undefined || range[1] <= range[0]) continue
    const [start, end] = [from + range[0], from + range[1]]
    // A value redacted before is no secret: twin documents are scanned again at push time.
    if (text.startsWith(REDACTED, start)) continue
    spans.push({ rule: rule.id, description: rule.description, start, end })
  }
}

// ---- secretlint -------------------------------------------------------------------------

interface LintMessage {
  ruleId: string
  message: string
  range: readonly [number, number]
}
type Lint = (text: string, path: string | undefined) => Promise<LintMessage[]>

let lint: Promise<Lint> | undefined

/**
 * Loaded on first use: commands that never scan do not pay for the preset.
 *
 * secretlint 12's profiler is always on (upstream issues #1633 and #1653, fixed only in 13.x, which
 * needs a newer Node): every lintSource() puts some 100 `performance.mark()` entries into Node's
 * global timeline, and its PerformanceObserver keeps every one and scans them all on each `::end`
 * mark. Nothing ever reads them and nothing frees them, so the cost of a scan grew with every scan
 * before it in the same process: quadratic in a snapshot of many files, and after ~10,000 scans
 * (the test suite, a long TUI session) a 118-file /etc took 90 s instead of 0.4 s. The profiler's
 * mark() is a no-op here, before the first lint; sdk/test/secrets.test.ts checks that a scan
 * leaves no mark behind.
 */
function secretlint(): Promise<Lint> {
  lint ??= (async () => {
    const { rules } = await import('@secretlint/secretlint-rule-preset-recommend')
    const config = {
      rules: rules
        .filter((r) => r.meta.id !== '@secretlint/secretlint-rule-filter-comments')
        .map((r) => ({ id: r.meta.id, rule: r })),
    }
    // A text none of the preset's rules could report on is not run through it (preset-prefilter.ts),
    // while the preset's rules are the ones that was worked out for.
    const prefiltered = config.rules.every((r) => PRESET_RULES.has(r.id))
    return async (text: string, path: string | undefined): Promise<LintMessage[]> => {
      if (prefiltered && !presetMayReport(text)) return []
      const lintSource = await secretlintCore()
      const result = await lintSource({
        source: { filePath: path ?? 'text', content: text, contentType: 'text' },
        options: { config, maskSecrets: true, ...(path === undefined ? { noPhysicFilePath: true } : {}) },
      })
      return result.messages as unknown as LintMessage[]
    }
  })()
  return lint
}

let core: Promise<typeof import('@secretlint/core').lintSource> | undefined

/**
 * secretlint's core (lintSource) and its profiler, loaded for the first text the preset is run on
 * (one `presetMayReport` lets through), not with the preset: the preset's rules, and so whether
 * the prefilter may be trusted (PRESET_RULES), are known before any text is screened, as before.
 * The profiler's mark() is silenced before the first lint, as before. Speed (issue 22, session
 * 50): the core and profiler are `vendor-secretlint.cjs` (37 KB), the preset its own file
 * (`vendor-secretlint-preset.cjs`, 100 KB), and most runs that screen never need the core: no text
 * of a minbase one-file snapshot, nor of the scale root's, passes the prefilter (the three modules'
 * load was 46 M instructions of the scale root's one-file snapshot). A fresh process (no code
 * cache) asking about four names: 89.1 → 70.3 M (callgrind).
 */
function secretlintCore(): Promise<typeof import('@secretlint/core').lintSource> {
  core ??= (async () => {
    const [{ lintSource }, { secretLintProfiler }] = await Promise.all([import('@secretlint/core'), import('@secretlint/profiler')])
    secretLintProfiler.mark = () => {}
    return lintSource
  })()
  return core
}

const TOKEN_END = /[\s"'`,;]/

/** What a JSON string's escape of a line break or a tab is read as (jsonBreaks): two characters for two. */
const JSON_BREAKS: Readonly<Record<string, string>> = { n: ' \n', r: ' \r', t: '  ' }

/**
 * The text the rules read. In a JSON file (a path ending in .json) a string's line breaks and
 * tabs are the escapes `\n`, `\r`, `\t`, so a token at the start of such a line ("...\nghp_...")
 * follows a letter, and the rules that want no letter or word before a token (the preset's
 * github, AWS's key id, a `password=` at a line's start...) did not see it. Session 41: a
 * command's output in the apply journal (`outputTail`) and a machine's /etc/app/config.json
 * each put a GitHub token into the commit. Such an escape is read as a space and the character
 * it stands for, two characters for two, so a finding's offsets are the text's; `escapes` holds
 * the backslashes' offsets. Any other text, or JSON without those escapes, is read as it is.
 */
function jsonBreaks(text: string, path: string | undefined): { scan: string; escapes?: Set<number> } {
  if (path === undefined || !path.endsWith('.json') || !/\\[nrt]/.test(text)) return { scan: text }
  const escapes = new Set<number>()
  const scan = text.replace(/\\([\s\S])/g, (pair: string, c: string, at: number) => {
    const to = JSON_BREAKS[c]
    if (to === undefined) return pair
    escapes.add(at)
    return to
  })
  return { scan, escapes }
}

/**
 * An extended attribute's value as `getfattr -e base64` prints it and the files manifest records
 * it (`"user.db": "0scG9zdGdyZXM6Ly9…"`): `0s` and the base64 of the bytes, standing alone (not
 * after a letter, digit, `+` or `/`: `10s`, a longer base64 run). Session 46: a `user.*`
 * attribute holds whatever a person or program put there (curl's and wget's
 * `user.xdg.origin.url` with a `?private_token=` query, a database URL, `password=…` in a note),
 * and the rules read the base64, not the text, so three of four planted values reached the
 * commit; only one under a key that names a credential (`user.token`) was redacted. At least 12
 * base64 characters (9 bytes): no shorter value is a secret any rule finds. Session 47 (session
 * 46's review, S2): `0x` and the hex of the bytes too (getfattr's `-e hex`, which the SDK's
 * xattrBytes reads as the bytes, so a hand-written twin may hold a value so), at least 18 hex
 * digits (9 bytes), in pairs, not followed by a letter or digit.
 */
const ENCODED_VALUE = /(?<![A-Za-z0-9+/])(?:0s([A-Za-z0-9+/]{12,}={0,2})(?![A-Za-z0-9+/=])|0x((?:[0-9a-fA-F]{2}){9,})(?![0-9A-Za-z]))/g

/**
 * The spans of the encoded values (ENCODED_VALUE) whose text holds a secret, each the whole `0s…`
 * (a value is redacted whole: a part of its base64 is no text). A value whose bytes are not text
 * (an ACL's `0sAgAAAA…`, a capability, a binary marker) is passed over: the rules read text. Asked
 * of the decoded text as of any text without a path, one level deep only: a value whose decoded
 * text is itself an encoding (base64 of `password=…` stored as text, then `0s` of that) is read
 * as that encoded text, which no rule finds, and passes (not measured how often a program stores
 * base64 text in a `user.*` attribute; session 46's review, S2). Linear: one pass of the
 * expression (its starts are disjoint runs: a hex run holds no `x`, a base64 run no `0s` start
 * after its first character), each value decoded once.
 */
async function encodedValueSpans(text: string): Promise<Span[]> {
  if (!text.includes('0s') && !text.includes('0x')) return []
  const spans: Span[] = []
  ENCODED_VALUE.lastIndex = 0
  for (let found = ENCODED_VALUE.exec(text); found !== null; found = ENCODED_VALUE.exec(text)) {
    const bytes = found[1] === undefined ? Buffer.from(found[2] as string, 'hex') : Buffer.from(found[1], 'base64')
    // A NUL ends or separates C strings: a program that stores a string with its terminator
    // (`setxattr(…, s, strlen(s) + 1)`) or a list of them gives a value getfattr shows only as
    // 0s/0x. Read as a line break; before, such a value was "not text" and its secret was
    // committed (session 47's review, F2).
    const decoded = bytes.toString('utf8').replaceAll('\0', '\n')
    // Not text: a byte sequence UTF-8 cannot read, or a control character other than a tab or a line break.
    // eslint-disable-next-line no-control-regex
    if (decoded.includes('\uFFFD') || /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(decoded)) continue
    const inner = await findSecretsIn(decoded, {}, false)
    if (inner.length === 0) continue
    spans.push({ rule: ENCODED_RULE, description: `${inner[0]?.rule} secret in ${found[1] === undefined ? "a hex value (getfattr's 0x)" : "a base64 value (getfattr's 0s)"}`, start: found.index, end: found.index + found[0].length })
  }
  return spans
}

/** The rule id of a secret found in an encoded value's text (encodedValueSpans). */
const ENCODED_RULE = 'base64-value'

/**
 * A single quote inside a single-quoted shell word, as POSIX shells write it: `'\\''` (close,
 * an escaped quote, open again), `'\\\\''` in a JSON string. Session 46: the apply journal and
 * the record of run-once commands hold a command as its quoted line (`run sh -c 'echo
 * '\\''ops:…'\\'' | chpasswd'`), and the rules, which read `echo 'ops:…' | chpasswd`, did not
 * see the password through the quoting: it reached the commit.
 */
const SHELL_QUOTE = /'(?:\\\\|\\)''/g

/**
 * The text with each SHELL_QUOTE read as the quote it stands for, and `at`, each of its
 * characters' offset in the text (one more for its end), so the hand rules' findings in it are
 * placed in the text; undefined for a text without one (most).
 */
function shellUnquoted(text: string): { scan: string; at: number[] } | undefined {
  if (!text.includes("'\\''") && !text.includes("'\\\\''")) return undefined
  const at: number[] = []
  let scan = ''
  let from = 0
  SHELL_QUOTE.lastIndex = 0
  for (let found = SHELL_QUOTE.exec(text); found !== null; found = SHELL_QUOTE.exec(text)) {
    for (let i = from; i < found.index; i++) at.push(i)
    scan += text.slice(from, found.index) + "'"
    // The quote stands for the whole sequence: its last character.
    at.push(found.index + found[0].length - 1)
    from = found.index + found[0].length
  }
  for (let i = from; i <= text.length; i++) at.push(i)
  return { scan: scan + text.slice(from), at }
}

function secretlintRule(ruleId: string): string {
  return ruleId.replace(/^@secretlint\/secretlint-rule-/, '')
}

// ---- API ----------------------------------------------------------------------------------

/**
 * Every secret in a text, in order, overlapping findings merged (the first and longest wins).
 * Each finding has the rule, the place and offsets, never the value.
 */
export async function findSecrets(text: string, options: FindSecretsOptions = {}): Promise<SecretFinding[]> {
  scans++
  return findSecretsIn(text, options, true)
}

/** findSecrets; `encoded`: whether encoded values are read too (not inside one: encodedValueSpans). */
async function findSecretsIn(text: string, options: FindSecretsOptions, encoded: boolean): Promise<SecretFinding[]> {
  if (text.length === 0) return []
  // The rules read `scan`; offsets are the same in both, lines and columns are the text's.
  const { scan, escapes } = jsonBreaks(text, options.path)
  const hand = handSpans(scan, options.path)
  const spans = [...hand]
  const messages = await (await secretlint())(scan, options.path)
  for (const m of messages) {
    const [start, reported] = m.range
    // Some preset rules report a range that stops short of the value (the AWS secret key's range
    // has the value's length but starts at the key name): run on to the end of the token.
    let end = reported
    while (end < scan.length && !TOKEN_END.test(scan[end] as string)) end++
    if (end <= start) continue
    // A preset rule's span around a value redacted before (`postgres://app:<redacted>@db`) is no secret.
    if (scan.slice(start, end).includes(REDACTED)) continue
    // Where a hand-written rule found the same secret, its span is the value alone (the preset's
    // often take in the key name or the whole URL): keep the narrower one, so redaction keeps the line readable.
    if (hand.some((h) => h.start < end && start < h.end)) continue
    spans.push({ rule: secretlintRule(m.ruleId), description: `${secretlintRule(m.ruleId)} secret`, start, end })
  }
  if (encoded) for (const span of await encodedValueSpans(scan)) spans.push(span)
  const unquoted = shellUnquoted(scan)
  if (unquoted !== undefined) {
    for (const span of handSpans(unquoted.scan, options.path)) {
      const start = unquoted.at[span.start] as number
      const end = (unquoted.at[span.end - 1] as number) + 1
      if (!hand.some((h) => h.start < end && start < h.end)) spans.push({ ...span, start, end })
    }
  }
  // A span that would split an escape (its letter, or its backslash alone) takes it whole.
  if (escapes !== undefined) {
    for (const span of spans) {
      if (escapes.has(span.start - 1)) span.start--
      if (escapes.has(span.end - 1)) span.end++
    }
  }
  spans.sort((a, b) => a.start - b.start || b.end - a.end)
  const starts = lineStarts(text)
  const findings: SecretFinding[] = []
  let last: SecretFinding | undefined
  for (const span of spans) {
    if (last !== undefined && span.start < last.end) {
      // Overlapping findings of two rules are one secret: report it once, redact all of both.
      last.end = Math.max(last.end, span.end)
      continue
    }
    last = { ...span, ...position(starts, span.start) }
    findings.push(last)
  }
  return findings
}

let scans = 0

/**
 * How many texts this process has asked the detector about. A snapshot of an unchanged machine
 * asks about none (verdicts are kept with the files' signatures, documents HEAD holds are not
 * screened again): test/integration/secret-scans.test.ts holds it to 0.
 */
export function secretScanCount(): number {
  return scans
}

/** The text with every secret value replaced by `<redacted>`; everything else kept as it was. */
export async function redactSecrets(text: string, options: FindSecretsOptions = {}): Promise<string> {
  const findings = await findSecrets(text, options)
  if (findings.length === 0) return text
  let out = ''
  let at = 0
  for (const f of findings) {
    out += text.slice(at, f.start) + REDACTED
    at = f.end
  }
  return out + text.slice(at)
}

/** Whether a text holds any secret (the first finding's rule, or undefined). */
export async function secretRuleIn(text: string, options: FindSecretsOptions = {}): Promise<string | undefined> {
  return (await findSecrets(text, options))[0]?.rule
}

/**
 * The rule of the first secret in a name (a path's component, a symlink's target), or undefined.
 * A name is carried into commits by the documents that hold it and by the twin's own file names
 * (a file's, a folder's), so a name with a finding is held out, never redacted: the files
 * provider's collect and plan (plugins/files/src/secret-names.ts) and the snapshot's guard for
 * every other provider's documents (core/src/snapshot/secret-guard.ts) ask this, the one rule.
 * Asked as a text alone, without a path: no file-specific rule applies, as to the manifest that
 * lists the name.
 */
export async function secretRuleInName(name: string): Promise<string | undefined> {
  if (name.length === 0) return undefined
  return (await findSecrets(name))[0]?.rule
}

/**
 * secretRuleInName for many names at once (a folder's listing, the unit files, the installed
 * packages): the names that hold a secret, with the rule. The names are screened as one text, one
 * detector call, and each name alone (secretRuleInName, the one rule) only on a line a finding
 * spans. Measured (session 25, warm, load 8–11): 246 unit names 0.7–9 ms of CPU as one text
 * against 15–67 ms asked one by one; 750 package names 1.7–10 ms against 141 ms; 5,000 names
 * 8–24 ms against 284 ms.
 */
export async function secretRulesInNames(names: Iterable<string>): Promise<Map<string, string>> {
  const held = new Map<string, string>()
  const unique = [...new Set(names)].filter((n) => n.length > 0 && !n.includes('\n'))
  const text = unique.join('\n')
  for (const finding of await findSecrets(text)) {
    const last = finding.line + (text.slice(finding.start, finding.end).match(/\n/g)?.length ?? 0)
    for (const name of unique.slice(finding.line - 1, last)) {
      if (held.has(name)) continue
      const rule = await secretRuleInName(name)
      if (rule !== undefined) held.set(name, rule)
    }
  }
  // A name with a line break (a file name can hold one) is asked alone: it would be two lines of the text.
  for (const name of new Set(names)) {
    if (!name.includes('\n') || held.has(name)) continue
    const rule = await secretRuleInName(name)
    if (rule !== undefined) held.set(name, rule)
  }
  return held
}

/** A finding as a person reads it: "etc/app.env:3:7 github (github secret)". Never the value. */
export function formatSecretFinding(where: string, finding: SecretFinding): string {
  return `${where}:${finding.line}:${finding.column} ${finding.rule} (${finding.description})`
}
