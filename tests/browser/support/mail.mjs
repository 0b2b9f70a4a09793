// Real mail servers on loopback for the email inbox in the browser tests, as the email channel's
// own tests run them (channels/email/tests/support/mod.rs):
// - Dovecot (Debian `dovecot-imapd`) from a config written into a temp dir: 127.0.0.1 on a free
//   port, plaintext auth, one passwd-file user, maildir in the temp dir; as root it drops to
//   nobody for mail, otherwise it runs everything as the current user.
// - aiosmtpd (Debian `python3-aiosmtpd`): `python3 -m aiosmtpd -n -l 127.0.0.1:PORT`, a real
//   SMTP server that accepts everything and prints it.
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { freePort, eventually } from './kefu.mjs';

export const MAIL_USER = 'support@kefu.test';
export const MAIL_PASSWORD = 'kefu-test-secret';

/** Whether something accepts TCP connections on `port`. */
function listening(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** The path of `name` in PATH or one of `extra` folders, else null. */
function which(name, extra = []) {
  const dirs = [...(process.env.PATH || '').split(':'), ...extra];
  for (const d of dirs) if (d && existsSync(join(d, name))) return join(d, name);
  return null;
}

function dovecotConf(dir, port) {
  const root = process.getuid() === 0;
  const uid = root ? 65534 : process.getuid();
  const users = root ? '' : (() => {
    const name = execFileSync('id', ['-un']).toString().trim();
    return `default_login_user = ${name}\ndefault_internal_user = ${name}\n`;
  })();
  return `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:${dir}/mail/%u
first_valid_uid = 1
${users}passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=${uid} gid=${uid} home=${dir}/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
}
service submission-login {
  inet_listener submission {
    port = 0
  }
}
`;
}

/**
 * Starts Dovecot with one user (`MAIL_USER` / `MAIL_PASSWORD`). Resolves to `{port, stop}`.
 */
export async function startDovecot() {
  const bin = which('dovecot', ['/usr/sbin', '/usr/local/sbin']);
  if (!bin) throw new Error('dovecot is not installed (apt-get install -y dovecot-imapd)');
  const dir = mkdtempSync(join(tmpdir(), 'kefu-dovecot-'));
  mkdirSync(join(dir, 'mail'));
  if (process.getuid() === 0) {
    chmodSync(dir, 0o755);
    chownSync(join(dir, 'mail'), 65534, 65534);
  }
  writeFileSync(join(dir, 'passwd'), `${MAIL_USER}:{PLAIN}${MAIL_PASSWORD}\n`);
  const port = await freePort();
  writeFileSync(join(dir, 'dovecot.conf'), dovecotConf(dir, port));
  const child = spawn(bin, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: 'ignore' });
  const log = () => { try { return readFileSync(join(dir, 'dovecot.log'), 'utf8'); } catch { return ''; } };
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`dovecot exited with ${child.exitCode}:\n${log()}`);
    return listening(port);
  }, 'dovecot to listen', 15_000);
  return {
    port,
    log,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts aiosmtpd on a free port. Resolves to `{port, stop}`. */
export async function startSmtp() {
  const port = await freePort();
  // Debian's python3 has the python3-aiosmtpd package; another python3 first in PATH may not.
  const python = process.env.PYTHON || (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const child = spawn(python, ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c) => { err += c; });
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`aiosmtpd exited with ${child.exitCode}: ${err}`);
    return listening(port);
  }, 'aiosmtpd to listen', 15_000);
  return {
    port,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    },
  };
}
