import { strict as assert } from 'node:assert'
import { postfixTables } from '../src/debian-services.js'

describe('postfixTables: the indexed tables postfix reads compiled, from postconf -nx and -Px', () => {
  it('lists hash, btree, lmdb and cdb tables once each, with postalias for the alias tables and the proxy: prefix read through', () => {
    const output = [
      'alias_database = hash:/etc/aliases',
      'alias_maps = hash:/etc/aliases, nis:mail.aliases',
      'smtp_tls_session_cache_database = btree:/var/lib/postfix/smtp_scache',
      'virtual_alias_maps = hash:/etc/postfix/virtual lmdb:/etc/postfix/more, regexp:/etc/postfix/virtual.re',
      'transport_maps = proxy:cdb:/etc/postfix/transport',
      'header_checks = pcre:/etc/postfix/header_checks',
      'mydestination = $myhostname, localhost',
      'submission/inet/smtpd_sender_login_maps = hash:/etc/postfix/senders',
    ].join('\n')
    assert.deepEqual(postfixTables(output), [
      { source: '/etc/aliases', built: '/etc/aliases.db', argv: ['postalias', 'hash:/etc/aliases'] },
      { source: '/var/lib/postfix/smtp_scache', built: '/var/lib/postfix/smtp_scache.db', argv: ['postmap', 'btree:/var/lib/postfix/smtp_scache'] },
      { source: '/etc/postfix/virtual', built: '/etc/postfix/virtual.db', argv: ['postmap', 'hash:/etc/postfix/virtual'] },
      { source: '/etc/postfix/more', built: '/etc/postfix/more.lmdb', argv: ['postmap', 'lmdb:/etc/postfix/more'] },
      { source: '/etc/postfix/transport', built: '/etc/postfix/transport.cdb', argv: ['postmap', 'cdb:/etc/postfix/transport'] },
      { source: '/etc/postfix/senders', built: '/etc/postfix/senders.db', argv: ['postmap', 'hash:/etc/postfix/senders'] },
    ])
  })
})
