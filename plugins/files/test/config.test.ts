import { strict as assert } from 'node:assert'
import { Value } from 'typebox/value'
import { applyDefaults } from '../../../core/src/config/schema-defaults.js'
import { DEFAULT_LIMITS } from '@twinsync/sdk'
import { DEFAULT_INCLUDE, FilesConfigSchema, resolveConfig, saysNothing } from '../src/config.js'

describe('files provider: its configuration section', () => {
  const defaults = applyDefaults(FilesConfigSchema, {}) as Record<string, unknown>

  it('says nothing when missing, empty, or its defaults as the core fills them in, which are valid', () => {
    assert.ok(Value.Check(FilesConfigSchema, defaults))
    for (const section of [{}, defaults, { include: [...DEFAULT_INCLUDE] }, { secrets: {} }, { secrets: { paths: [], detectContent: true } }, { users: 'default', defaultIgnore: true, ignore: [] }]) {
      assert.ok(saysNothing(section), JSON.stringify(section))
      assert.ok(Value.Check(FilesConfigSchema, section), JSON.stringify(section))
    }
    assert.deepEqual(resolveConfig(defaults, DEFAULT_LIMITS), resolveConfig(undefined, DEFAULT_LIMITS))
  })

  it('checks any other section against the schema (valid or not)', () => {
    const others: unknown[] = [
      { ...defaults, include: ['/etc'] },
      { ...defaults, include: [...DEFAULT_INCLUDE, '/srv'] },
      { ...defaults, include: [...DEFAULT_INCLUDE].reverse() },
      { ...defaults, ignore: ['*.log'] },
      { ...defaults, defaultIgnore: false },
      { ...defaults, users: ['root'] },
      { ...defaults, maxFileSize: 10 },
      { ...defaults, secrets: { paths: ['/srv/key'], detectContent: true } },
      { ...defaults, secrets: { paths: [], detectContent: false } },
      // Not valid: each is refused by the schema.
      { ...defaults, include: ['relative'] },
      { ...defaults, include: ['/etc', '/proc/sys'] },
      { ...defaults, include: ['/sys'] },
      { ...defaults, include: ['/dev/'] },
      { ...defaults, include: ['//proc'] },
      { ...defaults, include: ['/'] },
      { ...defaults, users: 'everyone' },
      { ...defaults, secrets: { paths: [], detectContent: true, extra: 1 } },
      { ...defaults, unknown: true },
      { ...defaults, defaultIgnore: 'yes' },
      { ...defaults, include: undefined },
      [],
      'text',
      null,
    ]
    for (const section of others) {
      assert.equal(saysNothing(section), false, JSON.stringify(section))
      const valid = Value.Check(FilesConfigSchema, section ?? {})
      if (valid) assert.doesNotThrow(() => resolveConfig(section, DEFAULT_LIMITS))
      else assert.throws(() => resolveConfig(section, DEFAULT_LIMITS), /files:/)
    }
  })

  it('refuses kernel interfaces in include (/proc, /sys, /dev, and "/" which holds them), keeps look-alikes', () => {
    for (const path of ['/proc', '/proc/', '/proc/sys/kernel', '/sys', '/sys/class', '/dev', '/dev/shm', '//dev', '/', '//']) {
      assert.equal(Value.Check(FilesConfigSchema, { include: [path] }), false, path)
    }
    for (const path of ['/etc', '/process', '/system', '/devices', '/srv/proc', '/opt/dev', '~/.config', '~/proc']) {
      assert.equal(Value.Check(FilesConfigSchema, { include: [path] }), true, path)
    }
  })
})
