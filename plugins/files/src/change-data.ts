import Type from 'typebox'
import { lazySchema } from '@twinsync/sdk'
import { ContentKindSchema } from './state.js'

const Path = lazySchema(() => Type.String({ pattern: '^/' }))
const Id = lazySchema(() => Type.Integer({ minimum: 0 }))
const Mode = lazySchema(() => Type.Integer({ minimum: 0, maximum: 0o7777 }))
/**
 * The extended attributes the entry ends with (values as getfattr -e base64 prints them) and its
 * capabilities as getcap prints them ("" for none). Left out when the twin and the machine agree:
 * apply then carries over what the live entry has.
 */
const Attributes = lazySchema(() => ({
  xattrs: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String())),
  capabilities: Type.Optional(Type.String()),
}))

/**
 * The payload of a files change: everything apply needs, so a saved plan can be carried out
 * later without the twin. Checked again when applied, since a plan file can be edited.
 */
export const FilesChangeData = lazySchema(() => Type.Union([
  Type.Object(
    {
      action: Type.Literal('write'),
      path: Path(),
      text: Type.String(),
      sha256: Type.String(),
      mode: Mode(),
      uid: Id(),
      gid: Id(),
      /** Something of another type (a symlink, a directory) is in the way and is removed first. */
      replaceType: Type.Optional(Type.Boolean()),
      ...Attributes(),
    },
    { additionalProperties: false },
  ),
  /**
   * A file the twin asks for whose document is bigger than maxFileSize: not read, so the change
   * has no content and never runs. The provider's scope leaves it out (FILES_TOO_LARGE_NOT_PLANNED),
   * the plan and status show it pending, and apply refuses a plan file that holds one.
   */
  Type.Object(
    { action: Type.Literal('too-large'), path: Path(), size: Type.Integer({ minimum: 0 }), mode: Mode(), uid: Id(), gid: Id(), replaceType: Type.Optional(Type.Boolean()) },
    { additionalProperties: false },
  ),
  /**
   * A document the twin holds for a file its manifest lists as not mirrored (secret, binary, too
   * large: `content`, absent when the entry says none): its content is not taken, so the change
   * carries none and never runs. The provider's scope leaves it out (FILES_NOT_MIRRORED_NOT_PLANNED),
   * plan and status show it pending, and apply refuses a plan file that holds one.
   */
  Type.Object(
    {
      action: Type.Literal('not-mirrored'),
      path: Path(),
      size: Type.Integer({ minimum: 0 }),
      content: Type.Optional(ContentKindSchema()),
      mode: Mode(),
      uid: Id(),
      gid: Id(),
      replaceType: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  /**
   * A twin document that is not UTF-8 text (or holds a NUL byte) for a file the twin lists as
   * mirrored, or for a new one, or one that is a symlink in the twin (`symlink`, size 0): no
   * snapshot writes such a document, and TwinSync writes only text it can show and review (and
   * never follows a link of the twin), so the change carries no content and never runs. The
   * provider's scope leaves it out (FILES_NOT_TEXT_NOT_PLANNED, FILES_TWIN_SYMLINK_NOT_PLANNED),
   * plan and status show it pending, and apply refuses a plan file that holds one.
   */
  Type.Object(
    {
      action: Type.Literal('not-text'),
      path: Path(),
      size: Type.Integer({ minimum: 0 }),
      symlink: Type.Optional(Type.Literal(true)),
      mode: Mode(),
      uid: Id(),
      gid: Id(),
      replaceType: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { action: Type.Literal('symlink'), path: Path(), target: Type.String({ minLength: 1 }), uid: Id(), gid: Id(), replaceType: Type.Optional(Type.Boolean()) },
    { additionalProperties: false },
  ),
  Type.Object(
    { action: Type.Literal('mkdir'), path: Path(), mode: Mode(), uid: Id(), gid: Id(), replaceType: Type.Optional(Type.Boolean()), ...Attributes() },
    { additionalProperties: false },
  ),
  Type.Object({ action: Type.Literal('chmod'), path: Path(), mode: Mode() }, { additionalProperties: false }),
  Type.Object({ action: Type.Literal('chown'), path: Path(), uid: Id(), gid: Id() }, { additionalProperties: false }),
  /** Mode(), owner, extended attributes and capabilities of an existing entry together: one change, one staleness check, one step. */
  Type.Object({ action: Type.Literal('attributes'), path: Path(), mode: Mode(), uid: Id(), gid: Id(), ...Attributes() }, { additionalProperties: false }),
  Type.Object(
    {
      action: Type.Literal('delete'),
      path: Path(),
      /**
       * A folder's entries the plan deletes with it (sorted by path), each with its live
       * fingerprint when the plan was made. Apply removes these and nothing else: whatever else
       * the folder holds then (ignored, another provider's, new since the plan) keeps the folder.
       */
      below: Type.Optional(Type.Array(Type.Object({ path: Path(), liveFingerprint: Type.String() }, { additionalProperties: false }))),
    },
    { additionalProperties: false },
  ),
]))
export type FilesChangeData = Type.Static<ReturnType<typeof FilesChangeData>>
