import { strict as assert } from 'node:assert'
import { parseDesktopEntry, setDesktopEntryEnabled } from '../src/desktop-entry.js'

const NM_APPLET = `[Desktop Entry]
Name=Network
Name[de]=Netzwerk
Comment=Manage your network connections
Icon=nm-device-wireless
Exec=nm-applet
Terminal=false
Type=Application
NoDisplay=true
NotShowIn=KDE;GNOME;
X-GNOME-UsesNotifications=true
X-GNOME-Autostart-enabled=true

[Desktop Action New]
Name=New
Hidden=true
`

describe('.desktop entries', () => {
  it('reads name, command, desktops and the enabled switches of the main group only', () => {
    assert.deepEqual(parseDesktopEntry(NM_APPLET), {
      name: 'Network',
      exec: 'nm-applet',
      type: 'Application',
      hidden: false,
      gnomeAutostartEnabled: true,
      onlyShowIn: [],
      notShowIn: ['KDE', 'GNOME'],
      enabled: true,
    })
  })

  it('treats Hidden=true and X-GNOME-Autostart-enabled=false as disabled', () => {
    assert.equal(parseDesktopEntry('[Desktop Entry]\nExec=a\nHidden=true\n').enabled, false)
    assert.equal(parseDesktopEntry('[Desktop Entry]\nExec=a\nX-GNOME-Autostart-enabled=false\n').enabled, false)
    assert.equal(parseDesktopEntry('[Desktop Entry]\nExec=a\nHidden=false\nX-GNOME-Autostart-enabled=true\n').enabled, true)
    assert.equal(parseDesktopEntry('[Desktop Entry]\nExec=a\n').enabled, true)
  })

  it('reads OnlyShowIn lists with escaped semicolons, spaces around "=", and CRLF', () => {
    const entry = parseDesktopEntry('# comment\r\n[Desktop Entry]\r\nOnlyShowIn = XFCE;LX\\;DE;\r\nExec = run me\r\n')
    assert.deepEqual(entry.onlyShowIn, ['XFCE', 'LX;DE'])
    assert.equal(entry.exec, 'run me')
    assert.equal(entry.name, undefined)
  })

  it('disables by adding Hidden=true after the last key and turning the GNOME switch off', () => {
    const disabled = setDesktopEntryEnabled(NM_APPLET, false)
    assert.equal(
      disabled,
      NM_APPLET.replace('X-GNOME-Autostart-enabled=true\n', 'X-GNOME-Autostart-enabled=false\nHidden=true\n'),
    )
    assert.equal(parseDesktopEntry(disabled).enabled, false)
  })

  it('enables by removing Hidden and turning the GNOME switch on, leaving other groups alone', () => {
    const disabled = setDesktopEntryEnabled(NM_APPLET, false)
    const enabled = setDesktopEntryEnabled(disabled, true)
    assert.equal(enabled, NM_APPLET)
    const hidden = '[Desktop Entry]\nHidden=true\nExec=x\n'
    assert.equal(setDesktopEntryEnabled(hidden, true), '[Desktop Entry]\nExec=x\n')
    assert.equal(setDesktopEntryEnabled(hidden, false), hidden)
  })

  it('gives a file without a group one, so the switch means something', () => {
    assert.equal(setDesktopEntryEnabled('Exec=x\n', false), '[Desktop Entry]\nExec=x\nHidden=true\n')
  })
})
