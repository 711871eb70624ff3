import { strict as assert } from 'node:assert'
import { commandOf, timerService, unitSetting, withSpecifiers } from '../src/exec-start.js'

describe('what a systemd unit runs (twinsync startup)', () => {
  it('reads ExecStart= of [Service] only, joins continued lines and skips comments', () => {
    const unit = '[Unit]\nExecStart=/not/this\n\n[Service]\n# ExecStart=/commented\nExecStartPre=/bin/true\nExecStart=/usr/sbin/nginx \\\n  -g "daemon on;" \\\n; a comment inside\n  -c /etc/nginx/nginx.conf\n[Install]\nWantedBy=multi-user.target\n'
    assert.deepEqual(unitSetting([unit], 'Service', 'ExecStart'), ['/usr/sbin/nginx -g "daemon on;" -c /etc/nginx/nginx.conf'])
  })

  it('a drop-in empty assignment clears the unit file value, and a later one replaces it', () => {
    const unit = '[Service]\nType=oneshot\nExecStart=/bin/first\nExecStart=/bin/second\n'
    assert.deepEqual(unitSetting([unit], 'Service', 'ExecStart'), ['/bin/first', '/bin/second'])
    assert.deepEqual(unitSetting([unit, '[Service]\nExecStart=\nExecStart = /usr/local/bin/mine --flag\n'], 'Service', 'ExecStart'), ['/usr/local/bin/mine --flag'])
    assert.deepEqual(unitSetting([unit, '[Service]\nExecStart=\n'], 'Service', 'ExecStart'), [])
  })

  it('takes off the prefixes; with @ the argv[0] word too', () => {
    assert.equal(commandOf('-/usr/bin/true'), '/usr/bin/true')
    assert.equal(commandOf('+!!/usr/bin/x --a'), '/usr/bin/x --a')
    assert.equal(commandOf('@/usr/sbin/agetty agetty -o x %I'), '/usr/sbin/agetty -o x %I')
    assert.equal(commandOf('/usr/sbin/cron -f $EXTRA_OPTS'), '/usr/sbin/cron -f $EXTRA_OPTS')
  })

  it('a timer starts its Unit=, else the service of its own name', () => {
    assert.equal(timerService('apt-daily.timer', ['[Timer]\nOnCalendar=daily\n']), 'apt-daily.service')
    assert.equal(timerService('backup@home.timer', ['[Timer]\nOnCalendar=daily\n']), 'backup@home.service')
    assert.equal(timerService('x.timer', ['[Timer]\nUnit=other.service\n', '[Timer]\nUnit=last.service\n']), 'last.service')
  })

  it("puts the unit's name into its specifiers, and leaves the running system's ones as written", () => {
    assert.equal(withSpecifiers('/usr/bin/pg_ctlcluster --skip-systemctl-redirect %i start', 'postgresql@17-main.service'), '/usr/bin/pg_ctlcluster --skip-systemctl-redirect 17-main start')
    assert.equal(withSpecifiers('/bin/mount %I %n %N %p 100%% %h', 'backup@srv-data\\x2dold.service'), '/bin/mount srv/data-old backup@srv-data\\x2dold.service backup@srv-data\\x2dold backup 100% %h')
    assert.equal(withSpecifiers('/usr/sbin/cron -f', 'cron.service'), '/usr/sbin/cron -f')
  })
})
