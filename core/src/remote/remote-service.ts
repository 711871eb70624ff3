import { hostname } from 'node:os'
import type { Diagnostic, HostPort, PathClaims, Provider, TwinReader } from '@twinsync/sdk'
import { TwinSyncError, compareStrings, isTwinSyncError } from '@twinsync/sdk/light'
import type { RegisteredProvider } from '../providers/provider-registry.js'
import { inject, injectable } from '../di.js'
import { RunTarget } from '../plan/run-target.js'
import { IntentService } from '../intent/intent-service.js'
import { Tokens } from '../tokens.js'
import { revParseCommit, runGit, tryGit } from '../twin/git.js'
import { TwinRepository } from '../twin/twin-repository.js'
import { refuseOtherMachine, twinInfoAt } from '../twin/machine-match.js'
import { findToken, forgetToken, refuseMalformedToken, saveToken } from './credentials.js'
import { fsckRefusedObjects, mirrorError, refusedBranch, runGitWithToken } from './git-transport.js'
import { DEFAULT_GITHUB_API, GitHubApi, defaultRepositoryName, parseOwnerRepo, type GitHubApiOptions } from './github-api.js'
import { clearPullMove, recordPullMove } from '../twin/pull-move.js'
import { moving } from '../twin/move-stamp.js'
import { MIRROR_BRANCH, REMOTE_NAME, readRemoteSettings, removeRemoteSettings, writeRemoteSettings, type RemoteSettings } from './remote-settings.js'
import { TWIN_OWN_RECORDS } from '../history/forget.js'
import { describePushFinding, scanPushForSecrets, type PushSecretFinding, type SecretPathAsker } from './secret-scan.js'
import { ProviderContexts } from '../providers/provider-contexts.js'
import type { LoadedConfig } from '../config/config-file.js'
import { ProviderRegistry } from '../providers/provider-registry.js'
import { callProvider } from '../providers/provider-call.js'
import { afterPush, auditMirror, configKey, keepMirrorAudit, readMirrorAudit, type MirrorAudit, type MirrorAuditWarning } from './mirror-audit.js'
import { checkRemoteUrl } from './remote-url.js'
import { settleMirrorHead, type MirrorHeadWarning } from './mirror-head.js'
import { twinKey } from '../plan/plan-seal.js'
import { MIRROR_REF, clearMirrorRefusal, keepMirrorRefusal, readMirrorRefusal, untrackRefused, type MirrorRefusal } from './mirror-refusal.js'
import { dropFetchRefs, fetchRef } from '../twin/fetch-refs.js'
import { carryOwnRecord, incomingPaths, refuseForgedJournals, refuseForgedRunRecord, refuseNoRoom, refuseOverLimit, refuseUnsafeTree, undoIncoming, type MirrorSteps } from './incoming-tree.js'

export type GitHubApiFactory = (options: GitHubApiOptions) => GitHubApi

export interface RemoteStatus {
  configured: boolean
  kind: RemoteSettings['kind'] | null
  url: string | null
  repository: string | null
  /** Local snapshots the mirror does not have yet (as far as the last push or fetch knows). */
  pending: number
  /** Secrets today's rules found in what the mirror already holds (see mirror-audit.ts); only when there are some. */
  mirrorSecrets?: PushSecretFinding[]
  /**
   * The mirror's commit the last pull refused, and why (mirror-refusal.ts): said until a pull takes
   * the mirror's branch or a push replaces it. Read from the record the pull kept, never from the
   * commit (which may be what made the pull refuse it: a 300 MB message).
   */
  refused?: MirrorRefusal
}

export interface PushOutcome {
  status: 'pushed' | 'up-to-date' | 'failed' | 'not-configured'
  pushed: number
  url: string | null
  error?: { code: string; message: string; nextStep?: string }
  /**
   * Secrets today's rules find in what the mirror held before this push (pushed before those
   * rules, or brought by a pull): reported with every push until the mirror's history no longer
   * holds them (see mirror-audit.ts). Only when there are some.
   */
  mirrorSecrets?: PushSecretFinding[]
  /** After the push that made the mirror's branch: its HEAD names a branch it does not have (mirror-head.ts). */
  mirrorHead?: MirrorHeadWarning
  /** The audit of the mirror could not be kept on the twin's disk (keepMirrorAudit): said beside the outcome, which stands. */
  auditNotKept?: MirrorAuditWarning
}

export interface PullOutcome {
  /** 'took-mirror': `pull --take-mirror` over diverged histories (the twin now has the mirror's). */
  status: 'up-to-date' | 'fast-forwarded' | 'ahead' | 'took-mirror'
  from: string | null
  to: string | null
  /** Snapshots that arrived. */
  pulled: number
  /** Local snapshots the mirror lacks (after 'took-mirror': those set aside under `keptAt`). */
  ahead: number
  /** 'took-mirror': the ref that keeps this twin's own history reachable (never pushed). */
  keptAt?: string
  /** 'took-mirror': what of this machine's record was put back on top of the mirror's history. */
  kept?: { commands: string[]; journals: string[] }
  /** Twin paths the person had edited: set aside, then put back on top of what arrived (still pending). */
  edits?: string[]
}

export interface PullOptions {
  /**
   * Diverged histories: take the mirror's, through the same checks, hold and restore as a
   * pull (`twinsync pull --take-mirror`, the TUI's "take the mirror's history").
   */
  takeMirror?: boolean
}

/** Where `pull --take-mirror` keeps this twin's own history: local refs, never pushed (push sends the branch and tags). */
export const DIVERGED_REFS = 'refs/twinsync/diverged/'


/**
 * The mirror of the twin: a private GitHub repository or any git remote. The local twin is the
 * source of truth; a push that fails loses nothing and is retried later.
 */
@injectable()
export class RemoteService {
  constructor(
    @inject(TwinRepository) private readonly twin: TwinRepository,
    @inject(Tokens.GitHubApiFactory) private readonly githubApi: GitHubApiFactory,
    @inject(IntentService) private readonly intents: IntentService,
    @inject(ProviderRegistry) private readonly registry: ProviderRegistry,
    @inject(ProviderContexts) private readonly contexts: ProviderContexts,
    @inject(Tokens.Config) private readonly config: LoadedConfig,
    @inject(RunTarget) private readonly target: RunTarget,
  ) {}

  async status(): Promise<RemoteStatus> {
    const settings = await readRemoteSettings(this.twin.dir)
    return {
      configured: settings !== undefined,
      kind: settings?.kind ?? null,
      url: settings?.url ?? null,
      repository: settings?.owner === undefined ? null : `${settings.owner}/${settings.repo}`,
      pending: settings === undefined ? 0 : await this.pendingCount(),
      ...withMirrorSecrets(settings === undefined ? undefined : readMirrorAudit(this.twin.dir, settings.url)),
      ...withRefusal(settings === undefined ? undefined : readMirrorRefusal(this.twin.dir, settings.url)),
    }
  }

  /** Mirror to any git remote: HTTPS (token sent as for GitHub), SSH, or a path (an NFS mount). */
  async setGitRemote(url: string, token: string | undefined): Promise<RemoteStatus> {
    // A token given is checked here, whichever front end gave it (refuseMalformedToken).
    if (token !== undefined) refuseMalformedToken(token, this.withToken(['remote', 'set', url]))
    await this.twin.open()
    checkRemoteUrl(url, this.line)
    if (token !== undefined) await saveToken(token)
    await this.configure({ kind: 'git', url })
    return this.status()
  }

  async linkGitHub(ownerRepo: string, options: { token?: string; apiUrl?: string }): Promise<RemoteStatus> {
    if (options.token !== undefined) refuseMalformedToken(options.token, this.withToken(['github', 'link', ownerRepo]))
    await this.twin.open()
    const { owner, repo } = parseOwnerRepo(ownerRepo)
    const token = await this.tokenOrThrow(options.token, ['github', 'link', `${owner}/${repo}`])
    const api = this.githubApi({ token, ...(options.apiUrl === undefined ? {} : { baseUrl: options.apiUrl }) })
    const found = await api.getRepository(owner, repo)
    refusePublic(found.private, `${owner}/${repo}`, this.line(['github', 'create']))
    if (options.token !== undefined) await saveToken(options.token)
    await this.configure({ kind: 'github', url: found.cloneUrl, owner: found.owner, repo: found.name, apiUrl: options.apiUrl ?? DEFAULT_GITHUB_API })
    return this.status()
  }

  async createGitHub(name: string | undefined, options: { token?: string; apiUrl?: string; org?: string; hostname?: string | null }): Promise<RemoteStatus> {
    if (options.token !== undefined) refuseMalformedToken(options.token, this.withToken(['github', 'create', ...(name === undefined ? [] : [name])]))
    await this.twin.open()
    const token = await this.tokenOrThrow(options.token, ['github', 'create', ...(name === undefined ? [] : [name])])
    const api = this.githubApi({ token, ...(options.apiUrl === undefined ? {} : { baseUrl: options.apiUrl }) })
    const repoName = name ?? defaultRepositoryName(options.hostname ?? hostname())
    const created = await api.createPrivateRepository(repoName, options.org)
    refusePublic(created.private, `${created.owner}/${created.name}`, this.line(['github', 'create']))
    if (options.token !== undefined) await saveToken(options.token)
    await this.configure({ kind: 'github', url: created.cloneUrl, owner: created.owner, repo: created.name, apiUrl: options.apiUrl ?? DEFAULT_GITHUB_API })
    return this.status()
  }

  async unlink(options: { forgetToken: boolean }): Promise<void> {
    await this.twin.open()
    await tryGit(this.twin.dir, ['remote', 'remove', REMOTE_NAME])
    await removeRemoteSettings(this.twin.dir)
    if (options.forgetToken) await forgetToken()
  }

  /** Check token, repository, privacy and that a push would be accepted, one line each. */
  async test(): Promise<Array<{ check: string; ok: boolean; detail: string }>> {
    const settings = await this.settingsOrThrow()
    const token = (await findToken())?.token
    const results: Array<{ check: string; ok: boolean; detail: string }> = []
    const record = async (check: string, fn: () => Promise<string>) => {
      try {
        results.push({ check, ok: true, detail: await fn() })
      } catch (error) {
        results.push({ check, ok: false, detail: (error as Error).message })
      }
    }
    if (settings.kind === 'github') {
      const api = this.githubApi({ token: token ?? '', baseUrl: settings.apiUrl ?? DEFAULT_GITHUB_API })
      await record('token', async () => {
        if (token === undefined) throw new Error('no token (GITHUB_TOKEN, GH_TOKEN or the credentials file)')
        return `valid, user ${(await api.user()).login}`
      })
      await record('repository', async () => {
        const repo = await api.getRepository(settings.owner as string, settings.repo as string)
        if (!repo.private) throw new Error(`${repo.owner}/${repo.name} is PUBLIC`)
        if (!repo.canPush) throw new Error('the token may not push to it')
        return `${repo.owner}/${repo.name} exists and is private`
      })
    }
    await record('push', async () => {
      const r = await runGitWithToken(this.twin.dir, ['push', '--dry-run', '--porcelain', REMOTE_NAME, `HEAD:refs/heads/${MIRROR_BRANCH}`], token)
      if (!r.ok) throw mirrorError(r, 'test push', settings.url, this.line)
      return `a push to ${settings.url} would be accepted`
    })
    return results
  }

  /**
   * Push every local snapshot the mirror lacks, and the labels. Failures are returned, not
   * thrown: the snapshots are safe here, and the caller reports a warning.
   */
  async push(options: { force?: boolean } = {}): Promise<PushOutcome> {
    const settings = await readRemoteSettings(this.twin.dir)
    if (settings === undefined) return { status: 'not-configured', pushed: 0, url: null }
    let audit: MirrorAudit | undefined
    try {
      const token = (await findToken())?.token
      const secretPaths = this.secretPathAsker()
      audit = await auditMirror(this.twin.dir, settings.url, MIRROR_REF, token, secretPaths, configKey(this.config.values))
      if (settings.kind === 'github') {
        // Linking the same repository again with a token keeps it for the pushes.
        if (token === undefined) throw tokenMissing(this.withToken(['github', 'link', `${settings.owner}/${settings.repo}`]))
        const api = this.githubApi({ token, baseUrl: settings.apiUrl ?? DEFAULT_GITHUB_API })
        const repo = await api.getRepository(settings.owner as string, settings.repo as string)
        refusePublic(repo.private, `${repo.owner}/${repo.name}`, this.line(['github', 'create']))
      }
      const pending = await this.pendingCount()
      const findings = await scanPushForSecrets(this.twin.dir, await this.pushContent(), token, secretPaths)
      if (findings.length > 0) {
        throw new TwinSyncError('SECRET_IN_PUSH', `Not pushed: secrets in ${findings.map(describePushFinding).join(', ')}`, {
          nextStep: secretInPushStep(findings, this.line),
          details: { files: findings.map((f) => ({ path: f.path, line: f.line, rule: f.rule, commit: f.commit })) },
        })
      }
      // The mirror's branch still on the commit the last pull refused: said without a push, whose
      // fast-forward check parses that commit (a 300 MB message: 0.3 GB in git, each snapshot).
      // Moved on since (fixed there): a rejection then is not that refusal's.
      let refusal = readMirrorRefusal(this.twin.dir, settings.url)
      if (refusal !== undefined && options.force !== true) {
        const listed = await runGitWithToken(this.twin.dir, ['ls-remote', REMOTE_NAME, `refs/heads/${MIRROR_BRANCH}`], token)
        const tip = listed.ok ? listed.output.split('\t')[0]?.trim() : undefined
        if (tip === refusal.commit) throw refusedBranch(settings.url, this.line, refusal, `the mirror's ${MIRROR_BRANCH} is still ${refusal.commit.slice(0, 12)} (git ls-remote)`)
        if (tip !== undefined) refusal = undefined
      }
      const branch = `${options.force === true ? '+' : ''}refs/heads/${MIRROR_BRANCH}:refs/heads/${MIRROR_BRANCH}`
      const r = await runGitWithToken(this.twin.dir, ['push', '--porcelain', REMOTE_NAME, branch, 'refs/tags/*:refs/tags/*'], token)
      if (!r.ok) {
        const fsckObjects = await fsckRefusedObjects(this.twin.dir, r.output, await this.revParse(MIRROR_REF))
        throw mirrorError(r, 'push', settings.url, this.line, { ...(refusal === undefined ? {} : { refused: refusal }), ...(fsckObjects === undefined ? {} : { fsckObjects }) })
      }
      // The mirror's branch is this twin's now: a commit a pull refused is no longer on it.
      await clearMirrorRefusal(this.twin.dir)
      audit = await afterPush(this.twin.dir, audit, MIRROR_REF)
      const auditNotKept = await keepMirrorAudit(this.twin.dir, audit)
      // The push that made the mirror's branch (git's porcelain line for it says "[new branch]").
      const made = new RegExp(`^\\*\\trefs/heads/${MIRROR_BRANCH}:refs/heads/${MIRROR_BRANCH}\\t\\[new branch\\]$`, 'm').test(r.output)
      const mirrorHead = made ? await settleMirrorHead(this.twin.dir, settings.url, token) : undefined
      return {
        status: pending === 0 ? 'up-to-date' : 'pushed',
        pushed: pending,
        url: settings.url,
        ...withMirrorSecrets(audit),
        ...(mirrorHead === undefined ? {} : { mirrorHead }),
        ...(auditNotKept === undefined ? {} : { auditNotKept }),
      }
    } catch (error) {
      if (!(error instanceof TwinSyncError)) throw error
      const auditNotKept = audit === undefined ? undefined : await keepMirrorAudit(this.twin.dir, audit)
      return {
        status: 'failed',
        pushed: 0,
        url: settings.url,
        error: { code: error.code, message: error.message, ...(error.nextStep === undefined ? {} : { nextStep: error.nextStep }) },
        ...withMirrorSecrets(audit),
        ...(auditNotKept === undefined ? {} : { auditNotKept }),
      }
    }
  }

  /**
   * `twinsync push --retry`: push what the mirror lacks, taking no snapshot. Pushing is the whole
   * job here, so no mirror linked is refused (REMOTE_NOT_CONFIGURED), not "not-configured" as
   * after a snapshot; a failed push is returned, and the command exits 1 on it.
   */
  async retry(options: { force?: boolean } = {}): Promise<PushOutcome> {
    await this.settingsOrThrow()
    return this.push(options)
  }

  /**
   * Fetch the mirror and fast-forward the twin; never merges diverged histories. With
   * `takeMirror`, diverged histories are resolved by taking the mirror's (takeMirrorHistory).
   * The fetch lands on a ref of this run's (fetch-refs.ts, FETCH_REFS); the tracking ref
   * (MIRROR_REF) moves to the fetched commit only once the checks of what it brings passed, and a
   * refusal is kept for `status` to say (keepMirrorRefusal) instead.
   */
  async pull(options: PullOptions = {}): Promise<PullOutcome> {
    const settings = await this.settingsOrThrow()
    const token = (await findToken())?.token
    const scratch = fetchRef()
    const fetched = await runGitWithToken(this.twin.dir, ['fetch', '--no-tags', '--no-write-fetch-head', '--refmap=', REMOTE_NAME, `+refs/heads/${MIRROR_BRANCH}:${scratch}`], token)
    try {
      if (!fetched.ok) throw mirrorError(fetched, 'fetch', settings.url, this.line)
      // The commit this run fetched, by its id: another pull's fetch never changes what this one judges.
      const tip = await this.revParse(scratch)
      if (tip === null) throw mirrorError({ ok: false, output: `the fetch left no ${scratch}` }, 'fetch', settings.url, this.line)
      // Under the twin lock, as snapshot, apply, adopt and discard are: the fetch only moved this
      // run's ref; the tracking ref, the working twin, the index and the held intent move only here
      // (session 11: before, a pull during an apply moved them under the apply's checkpoint and
      // journal commits). A snapshot killed half way is finished first, while HEAD is still its
      // commit (TwinRepository.lockForWriting).
      const lock = await this.twin.lockForWriting('pull')
      try {
        return await this.fastForward(options, tip, settings.url)
      } finally {
        await lock.release()
      }
    } finally {
      await dropFetchRefs(this.twin.dir, scratch)
    }
  }

  /** Whether the mirror's commit may come in: every check of what it brings, a refusal kept (keepMirrorRefusal) and thrown. */
  private async judgeIncoming(remote: string, local: string | null, url: string): Promise<void> {
    try {
      // The mirror is untrusted: look at what would be checked out before anything moves.
      await refuseUnsafeTree(this.twin.dir, remote, local, this.mirrorSteps())
      await refuseOverLimit(this.twin.dir, remote, (twin) => this.documentsOverLimit(twin), this.mirrorSteps())
      // A mirror holding another machine's twin (linked to the wrong one, or a twin copied between
      // machines) is not planned onto this one as if it were its own (session 19).
      const incomingTwin = await twinInfoAt(this.twin.dir, remote)
      if (incomingTwin !== undefined) await refuseOtherMachine(this.target.get(this.twin.dir), incomingTwin, this.contexts.host, { what: `The mirror's twin (${remote.slice(0, 12)})` })
      // What ran here is this machine's to say, not the mirror's: asked of a diverged mirror too,
      // whose next step (REMOTE_DIVERGED) takes the mirror's history as it is.
      // (`rev-list`, not `merge-base --is-ancestor`: git's exit code 1 without a word reads as success through the git module.)
      if (local !== null && (await runGit(this.twin.dir, ['rev-list', '-n', '1', remote, '--not', local])).trim() === '') return
      const key = await twinKey(this.twin.dir, false)
      await refuseForgedRunRecord(this.twin.dir, local, remote, key, this.mirrorSteps())
      await refuseForgedJournals(this.twin.dir, local, remote, key, this.mirrorSteps())
    } catch (error) {
      if (isTwinSyncError(error) && (error.code === 'TWIN_UNSAFE' || error.code === 'TWIN_OTHER_MACHINE')) {
        await keepMirrorRefusal(this.twin.dir, url, remote, error)
        await untrackRefused(this.twin.dir, remote)
      }
      throw error
    }
  }

  private async fastForward(options: PullOptions, remote: string, url: string): Promise<PullOutcome> {
    // Edits a killed run set aside go back first, whether or not this pull moves anything.
    await this.intents.putBackHeld()
    const local = (await this.twin.head()) ?? null
    if (remote !== local) await this.judgeIncoming(remote, local, url)
    // Taken: the tracking ref moves to it, and no refusal of the mirror stands.
    await runGit(this.twin.dir, ['update-ref', '-m', 'pull', MIRROR_REF, remote])
    await clearMirrorRefusal(this.twin.dir)
    if (remote === local) return { status: 'up-to-date', from: local, to: local, pulled: 0, ahead: 0 }
    const count = async (range: string) => Number((await runGit(this.twin.dir, ['rev-list', '--count', range])).trim())
    const behind = await count(`HEAD..${remote}`)
    const ahead = await count(`${remote}..HEAD`)
    if (behind === 0) return { status: 'ahead', from: local, to: local, pulled: 0, ahead }
    if (ahead > 0) {
      if (options.takeMirror === true) return this.takeMirrorHistory(local as string, remote, ahead, behind)
      throw new TwinSyncError('REMOTE_DIVERGED', `The twin and its mirror have both moved on: ${ahead} snapshot(s) only here, ${behind} only on the mirror`, {
        nextStep:
          `Nothing was changed. Choose: take the mirror's history (\`${this.line(['pull', '--take-mirror'])}\`: edits made here stay pending on top of it, this twin's ${ahead} snapshot(s) stay under a ref it names, and what ran here stays recorded); ` +
          `or keep this twin's history and overwrite the mirror (\`${this.line(['push', '--retry', '--force'])}\`); or merge them yourself with git in ${this.twin.dir}.`,
        details: { ahead, behind },
      })
    }
    // What arrives is intent, not an observation: the last snapshot stays the observed state,
    // local edits are set aside, and both are merged back on top of the pulled twin.
    const incoming = await incomingPaths(this.twin.dir, local, remote)
    refuseNoRoom(this.twin.dir, incoming.written, this.mirrorSteps())
    const intents = this.intents
    const observed = (await intents.observed()) as string
    await intents.markObserved(observed)
    const held = await intents.hold('all', local ?? undefined, {}, undefined, { by: 'pull' })
    // The pull's move, from its record to the edits put back on top: one move (move-stamp.ts).
    await moving(this.twin.dir, async () => {
      try {
        // git's checkout is not all or nothing: a run killed inside it is settled by the next one (pull-move.ts).
        if (local !== null) await recordPullMove(this.twin.dir, local, remote)
        await runGit(this.twin.dir, ['merge', '--ff-only', '--quiet', remote])
      } catch (error) {
        await undoIncoming(this.twin.dir, incoming, error)
        await clearPullMove(this.twin.dir)
        await held.restore(held.base, observed)
        throw error
      }
      await clearPullMove(this.twin.dir)
      await held.restore(remote, observed)
    })
    await intents.notePulled(remote, `pulled from the mirror (${(local ?? '').slice(0, 12)}..${remote.slice(0, 12)})`)
    return { status: 'fast-forwarded', from: local, to: remote, pulled: behind, ahead: 0, ...(held.paths.length === 0 ? {} : { edits: held.paths }) }
  }

  /**
   * `pull --take-mirror`: the twin takes the mirror's history over its own, diverged one. Judged
   * by the same checks as a pull (refuseUnsafeTree and refuseForgedRunRecord ran before this),
   * under the same lock. Nothing asked for is lost: this twin's own history stays reachable under
   * `refs/twinsync/diverged/<time>` (never pushed; `show` and `revert` read it), edits made here
   * are held and put back on top of the mirror's twin (pending, as after a pull), the observed
   * state stays this machine's last snapshot (what arrived is intent), and what ran on this
   * machine (its run-once commands' record and its apply journals) is put back on top
   * (carryOwnRecord). Before session 19 the next step was `git reset --hard`, which dropped all
   * of that but the held ref.
   */
  private async takeMirrorHistory(local: string, remote: string, ahead: number, behind: number): Promise<PullOutcome> {
    const dir = this.twin.dir
    const own = await carryOwnRecord(dir, local, remote)
    const incoming = await incomingPaths(dir, local, own.commit)
    refuseNoRoom(dir, incoming.written, this.mirrorSteps())
    const intents = this.intents
    const observed = (await intents.observed()) as string
    await intents.markObserved(observed)
    const keptAt = await keepDivergedHistory(dir, local)
    const held = await intents.hold('all', local, {}, undefined, { by: 'pull' })
    // As a pull's: one move from its record to the edits put back (move-stamp.ts).
    await moving(dir, async () => {
    try {
      await recordPullMove(dir, local, own.commit)
      // The index's stat data first, as `merge` refreshes it itself and `reset --keep` does not:
      // a snapshot's commit writes its entries without (atomic-snapshot.ts), and reset refused each
      // as "Entry '…' not uptodate. Cannot merge." (GIT_FAILED): `pull --take-mirror` right after a
      // snapshot that committed failed until a later one refreshed the index (session 41). Only
      // stat data is written; a file that differs stays an entry reset refuses, as before.
      await tryGit(dir, ['update-index', '-q', '--refresh'])
      await runGit(dir, ['reset', '--keep', '--quiet', own.commit])
    } catch (error) {
      await undoIncoming(dir, incoming, error)
      await clearPullMove(dir)
      await held.restore(held.base, observed)
      throw error
    }
    await clearPullMove(dir)
    await held.restore(own.commit, observed)
    })
    await intents.notePulled(own.commit, `taken from the mirror over this twin's own history (kept at ${keptAt})`)
    return {
      status: 'took-mirror',
      from: local,
      to: own.commit,
      pulled: behind,
      ahead,
      keptAt,
      kept: { commands: own.commands, journals: own.journals },
      ...(held.paths.length === 0 ? {} : { edits: held.paths }),
    }
  }

  /**
   * The enabled providers asked whether a twin's documents list more than they take
   * (Provider.overLimit): a pull asks it of the mirror's twin. Their host refuses changes. A
   * provider's failure refuses the pull: nothing unchecked comes in.
   */
  private async documentsOverLimit(twin: TwinReader): Promise<Diagnostic[]> {
    const { claims } = await this.registry.load()
    const providers = (await this.registry.select()).filter((p) => typeof p.provider.overLimit === 'function')
    if (providers.length === 0) return []
    const run = this.contexts.readOnly('Looking at a pull only reads', "while looking at the mirror's twin")
    const found: Diagnostic[] = []
    for (const { provider } of providers) {
      const ask = (provider.overLimit as NonNullable<Provider['overLimit']>).bind(provider)
      const ctx = this.contexts.for(provider, claims, { hostFor: run.hostFor })
      const answer = await callProvider(provider, 'overLimit', () => ask({ twin, ctx }), "Nothing was pulled: the mirror's twin could not be checked against this provider's limits.")
      if (!answer.ok) {
        throw new TwinSyncError(answer.diagnostic.code, answer.diagnostic.summary, {
          nextStep: answer.diagnostic.detail ?? 'Update or disable that provider, then pull again.',
          details: { provider: provider.name },
        })
      }
      for (const d of Array.isArray(answer.value) ? answer.value : []) {
        if (d?.severity === 'error' && typeof d.summary === 'string') found.push({ ...d, provider: provider.name })
      }
    }
    return found
  }

  /**
   * The enabled providers asked which pushed twin files are secret by path (Provider.secretPaths),
   * loaded only when a push has a commit that changed a file. Their host refuses changes; the
   * answer comes from the twin and the configuration. A provider's failure refuses the push.
   */
  private secretPathAsker(): SecretPathAsker {
    let asked: Promise<{ providers: RegisteredProvider[]; claims: PathClaims; hostFor: (provider: Provider) => HostPort }> | undefined
    return async (paths, twin) => {
      asked ??= (async () => {
        const { claims } = await this.registry.load()
        const providers = (await this.registry.select()).filter((p) => typeof p.provider.secretPaths === 'function')
        const run = this.contexts.readOnly('Looking at a push only reads', 'while looking at a push for secrets')
        return { providers, claims, hostFor: run.hostFor }
      })()
      const { providers, claims, hostFor } = await asked
      const found: Array<{ path: string; rule: string }> = []
      for (const { provider } of providers) {
        const ask = (provider.secretPaths as NonNullable<Provider['secretPaths']>).bind(provider)
        const ctx = this.contexts.for(provider, claims, { hostFor })
        const answer = await callProvider(provider, 'secretPaths', () => ask({ paths, twin, ctx }), 'Nothing was pushed: what the push sends could not be checked for secret paths.')
        if (!answer.ok) {
          throw new TwinSyncError(answer.diagnostic.code, answer.diagnostic.summary, {
            nextStep: answer.diagnostic.detail ?? 'Update or disable that provider, then push again.',
            details: { provider: provider.name },
          })
        }
        for (const hit of Array.isArray(answer.value) ? answer.value : []) {
          if (typeof hit?.path === 'string' && typeof hit.rule === 'string') found.push({ path: hit.path, rule: `${provider.name}: ${hit.rule}` })
        }
      }
      return found
    }
  }

  private async configure(settings: RemoteSettings): Promise<void> {
    // A clone URL from the GitHub API is input too.
    checkRemoteUrl(settings.url, this.line)
    const exists = (await tryGit(this.twin.dir, ['remote', 'get-url', REMOTE_NAME])).ok
    await runGit(this.twin.dir, ['remote', exists ? 'set-url' : 'add', REMOTE_NAME, settings.url])
    await writeRemoteSettings(this.twin.dir, settings)
  }

  /** What `push` sends: the branch and every tag; the mirror's branch as last seen is known there. */
  private async pushContent(): Promise<{ refs: string[]; known: string[] }> {
    const refs = (await runGit(this.twin.dir, ['for-each-ref', '--format=%(refname)', `refs/heads/${MIRROR_BRANCH}`, 'refs/tags/']))
      .split('\n')
      .filter(Boolean)
    return { refs, known: (await this.revParse(MIRROR_REF)) === null ? [] : [MIRROR_REF] }
  }

  private async pendingRange(): Promise<string[]> {
    return (await this.revParse(MIRROR_REF)) === null ? ['HEAD'] : ['HEAD', `^${MIRROR_REF}`]
  }

  private async pendingCount(): Promise<number> {
    if ((await this.twin.head()) === undefined) return 0
    return Number((await runGit(this.twin.dir, ['rev-list', '--count', ...(await this.pendingRange())])).trim())
  }

  private async revParse(ref: string): Promise<string | null> {
    return (await revParseCommit(this.twin.dir, ref)) ?? null
  }

  /** A `twinsync ARGS` line for this run's twin, root and configuration (RunTarget). */
  private readonly line = (args: readonly string[]): string => this.target.line(args, this.twin.dir)

  /** The command that was run, with the token from standard input: it can be pasted once TOKEN holds the token. */
  private withToken(command: readonly string[]): string {
    return this.line([...command, '--token-stdin'])
  }

  private mirrorSteps(): MirrorSteps {
    return { pull: this.line(['pull']), forcePush: this.line(['push', '--retry', '--force']) }
  }

  private async settingsOrThrow(): Promise<RemoteSettings> {
    await this.twin.open()
    const settings = await readRemoteSettings(this.twin.dir)
    if (settings === undefined) {
      throw new TwinSyncError('REMOTE_NOT_CONFIGURED', 'No mirror is linked to this twin', {
        nextStep: `Link one: \`${this.line(['github', 'link', 'OWNER/REPO'])}\`, \`${this.line(['github', 'create'])}\`, or \`${this.line(['remote', 'set', 'URL'])}\`.`,
      })
    }
    return settings
  }

  private async tokenOrThrow(given: string | undefined, command: string[]): Promise<string> {
    const token = given ?? (await findToken())?.token
    if (token === undefined) throw tokenMissing(this.withToken(command))
    return token
  }
}

/** The command that was run, with the token from standard input: it can be pasted once TOKEN holds the token. */
function tokenMissing(again: string): TwinSyncError {
  return new TwinSyncError('TOKEN_MISSING', 'No GitHub token: set GITHUB_TOKEN or GH_TOKEN, or pass one on standard input with --token-stdin', {
    nextStep: `printf %s "$TOKEN" | ${again}`,
  })
}

/**
 * SECRET_IN_PUSH's next step. A finding in the twin's own records (TWIN_OWN_RECORDS: twin.json,
 * the run-once record), which `forget PATH` refuses, is named with the command that redacts it
 * in every snapshot, `forget --rule` and its rules (session 48: a twin made before session 46
 * holds a token-shaped hostname in twin.json's history; the step said `forget PATH`, which is
 * FORGET_INVALID there). A rule of the detector only: the mirror's token and a finding inside
 * base64 are not forget's rules, and keep the general words.
 */
function secretInPushStep(findings: readonly PushSecretFinding[], line: (args: readonly string[]) => string): string {
  const own = findings.filter((f) => TWIN_OWN_RECORDS.includes(f.path) && f.line > 0 && f.rule !== 'mirror-token' && !f.rule.endsWith('(base64)'))
  const others = findings.length - own.length
  const general =
    `Remove files from the twin and its history with \`${line(['forget', 'PATH'])}\` (or mark the paths secret in the files configuration); ` +
    'a secret in a commit or tag message, a tag or a name: delete the tag (`git -C <twin> tag -d NAME`) or rewrite that commit.'
  if (own.length === 0) return `${general} Then push again.`
  const paths = [...new Set(own.map((f) => f.path))]
  const rules = [...new Set(own.map((f) => f.rule))].sort(compareStrings)
  // The rule is history-wide: what it finds in other files is redacted too, said (session 48's review, F4).
  const redact = `Redact the secrets in ${paths.join(' and ')} (the twin's own records, which forget does not remove) in every snapshot with \`${line(['forget', ...rules.flatMap((r) => ['--rule', r])])}\` (it redacts what ${rules.length === 1 ? 'that rule finds' : 'those rules find'} in every file of every snapshot, ${paths.join(' and ')} among them)`
  return others === 0 ? `${redact}, then push again.` : `${redact}. For the others: ${general} Then push again.`
}

function refusePublic(isPrivate: boolean, name: string, create: string): void {
  if (!isPrivate) {
    throw new TwinSyncError('REMOTE_PUBLIC', `${name} is a public repository; a twin describes a machine in detail and is only mirrored privately`, {
      nextStep: `Make ${name} private on GitHub, or use \`${create}\` for a new private one.`,
    })
  }
}

/**
 * A ref under DIVERGED_REFS on `commit`, named by the time (a second's clash gets a number). One
 * already there on `commit` is that ref: a take killed or failed after making it, taken again,
 * names the ref that holds the history (session 35's sweep: each rerun added one more).
 */
async function keepDivergedHistory(dir: string, commit: string): Promise<string> {
  const held = (await runGit(dir, ['for-each-ref', '--points-at', commit, '--format=%(refname)', DIVERGED_REFS])).split('\n').filter(Boolean)
  if (held[0] !== undefined) return held[0]
  const stamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '')
  for (let n = 1; ; n++) {
    const ref = `${DIVERGED_REFS}${stamp}${n === 1 ? '' : `-${n}`}`
    // Created only when absent (the empty old value): never moves a ref an earlier take made.
    if ((await tryGit(dir, ['update-ref', '--create-reflog', '-m', 'pull --take-mirror: this twin\'s own history', ref, commit, ''])).ok) return ref
    if (n > 100) throw new TwinSyncError('GIT_FAILED', `Could not create a ref under ${DIVERGED_REFS} in ${dir}`, { nextStep: `Look at \`git -C ${dir} for-each-ref ${DIVERGED_REFS}\`, then pull again.` })
  }
}

function withRefusal(refused: MirrorRefusal | undefined): { refused?: MirrorRefusal } {
  return refused === undefined ? {} : { refused }
}

function withMirrorSecrets(audit: MirrorAudit | undefined): { mirrorSecrets?: PushSecretFinding[] } {
  return audit === undefined || audit.findings.length === 0 ? {} : { mirrorSecrets: audit.findings }
}
