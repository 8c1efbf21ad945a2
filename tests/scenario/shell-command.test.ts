import { parseShellCommand, ShellParseError } from '../../src/scenario';

function failure(cmd: string): { col: number; message: string } {
  try {
    parseShellCommand(cmd);
  } catch (e) {
    if (e instanceof ShellParseError) return { col: e.col, message: e.message };
    throw e;
  }
  throw new Error(`'${cmd}' parsed`);
}

describe('parseShellCommand', () => {
  it('parses module commands, normalising names as modprobe does', () => {
    expect(parseShellCommand('modprobe test_klp_livepatch')).toEqual({
      cmd: 'modprobe',
      module: 'test_klp_livepatch',
      params: {},
      moduleCol: 10,
    });
    expect(parseShellCommand('modprobe test-klp-atomic-replace replace=1 "msg=a b"')).toEqual({
      cmd: 'modprobe',
      module: 'test_klp_atomic_replace',
      params: { replace: '1', msg: 'a b' },
      moduleCol: 10,
    });
    expect(parseShellCommand('insmod /lib/modules/test_klp_livepatch.ko x=')).toEqual({
      cmd: 'insmod',
      file: '/lib/modules/test_klp_livepatch.ko',
      module: 'test_klp_livepatch',
      params: { x: '' },
      moduleCol: 8,
    });
    expect(parseShellCommand('modprobe m verbose')).toEqual({ cmd: 'modprobe', module: 'm', params: { verbose: null }, moduleCol: 10 });
    expect(parseShellCommand('  rmmod  test_klp_livepatch')).toEqual({ cmd: 'rmmod', module: 'test_klp_livepatch', moduleCol: 10 });
    expect(parseShellCommand('lsmod')).toEqual({ cmd: 'lsmod' });
  });

  it('parses echo with and without a redirection', () => {
    expect(parseShellCommand('echo 0 > /sys/kernel/livepatch/p/enabled')).toEqual({
      cmd: 'echo',
      value: '0',
      target: '/sys/kernel/livepatch/p/enabled',
    });
    expect(parseShellCommand('echo 1 >/sys/module/m/parameters/k')).toEqual({
      cmd: 'echo',
      value: '1',
      target: '/sys/module/m/parameters/k',
    });
    expect(parseShellCommand('echo -n 1 >> f')).toEqual({ cmd: 'echo', value: '1', target: 'f', append: true });
    expect(parseShellCommand('echo  a   "b  c" \'d\'')).toEqual({ cmd: 'echo', value: 'a b  c d' });
    expect(parseShellCommand('echo')).toEqual({ cmd: 'echo', value: '' });
    expect(parseShellCommand('echo -5 > f')).toEqual({ cmd: 'echo', value: '-5', target: 'f' });
  });

  it('wraps `COMMAND > /dev/kmsg`, wherever the redirection is written', () => {
    expect(parseShellCommand('echo "test_klp: hello world" > /dev/kmsg')).toEqual({
      cmd: 'kmsg',
      inner: { cmd: 'echo', value: 'test_klp: hello world' },
    });
    expect(parseShellCommand('> /dev/kmsg cat /proc/cmdline')).toEqual({ cmd: 'kmsg', inner: { cmd: 'cat', file: '/proc/cmdline' } });
    expect(parseShellCommand('lsmod>/dev/kmsg')).toEqual({ cmd: 'kmsg', inner: { cmd: 'lsmod' } });
  });

  it('parses cat, ls and grep', () => {
    expect(parseShellCommand('cat /sys/kernel/livepatch/p/transition')).toEqual({ cmd: 'cat', file: '/sys/kernel/livepatch/p/transition' });
    expect(parseShellCommand('ls /sys/kernel/livepatch')).toEqual({ cmd: 'ls', dir: '/sys/kernel/livepatch' });
    expect(parseShellCommand("grep 'live patched' /proc/cmdline")).toEqual({
      cmd: 'grep',
      pattern: 'live patched',
      file: '/proc/cmdline',
      flags: [],
    });
    expect(parseShellCommand('grep -iv -c -- -x f')).toEqual({ cmd: 'grep', pattern: '-x', file: 'f', flags: ['i', 'v', 'c'] });
    expect(parseShellCommand('grep a*[b] f')).toEqual({ cmd: 'grep', pattern: 'a*[b]', file: 'f', flags: [] });
  });

  it('handles quotes and escapes as sh does', () => {
    expect(parseShellCommand('echo "a \\"b\\" \\$c \\n" \'x\\y\' z\\ w # comment')).toEqual({
      cmd: 'echo',
      value: 'a "b" $c \\n x\\y z w',
    });
    expect(parseShellCommand('echo a#b')).toEqual({ cmd: 'echo', value: 'a#b' });
    expect(parseShellCommand('echo \'a\'"b"c')).toEqual({ cmd: 'echo', value: 'abc' });
  });

  it('reports unknown commands and missing operands with their column', () => {
    expect(failure('  frob x')).toEqual({
      col: 3,
      message: "unknown command 'frob' (supported: modprobe, insmod, rmmod, lsmod, echo, cat, ls, grep, sysctl)",
    });
    expect(failure('')).toEqual({ col: 1, message: 'empty command' });
    expect(failure('modprobe')).toEqual({ col: 9, message: 'modprobe: missing module name' });
    expect(failure('modprobe m 1replace=1')).toEqual({ col: 12, message: "modprobe: expected PARAM or PARAM=VALUE, got '1replace=1'" });
    expect(failure('modprobe -r m')).toEqual({ col: 10, message: "modprobe: unsupported option '-r'" });
    expect(failure('rmmod')).toEqual({ col: 6, message: 'rmmod: missing module name' });
    expect(failure('rmmod a b')).toEqual({ col: 9, message: "rmmod: unexpected argument 'b' (one module name only)" });
    expect(failure('lsmod -l')).toEqual({ col: 7, message: "lsmod: unexpected argument '-l'" });
    expect(failure('cat')).toEqual({ col: 4, message: 'cat: missing file operand' });
    expect(failure('ls -l /x')).toEqual({ col: 4, message: "ls: unsupported option '-l'" });
    expect(failure('grep')).toEqual({ col: 5, message: 'grep: missing pattern' });
    expect(failure('grep -q x')).toEqual({ col: 10, message: 'grep: missing file operand' });
    expect(failure('grep -z x f')).toEqual({ col: 6, message: "grep: unsupported option '-z' (supported: -i -v -c -q -E -F -w -x)" });
    expect(failure('grep x f g')).toEqual({ col: 10, message: "grep: unexpected argument 'g' (one file only)" });
  });

  it('refuses shell syntax it does not implement instead of taking it literally', () => {
    expect(failure('cat f | grep x')).toEqual({ col: 7, message: 'pipes are not supported' });
    expect(failure('lsmod; lsmod')).toEqual({ col: 6, message: "';' is not supported: use one step per command" });
    expect(failure('cat < f')).toEqual({ col: 5, message: 'input redirection is not supported' });
    expect(failure('echo $MOD')).toEqual({ col: 6, message: "shell expansion '$MOD' is not supported" });
    expect(failure('echo "${replace}"')).toEqual({ col: 7, message: "shell expansion '${replace}' is not supported" });
    expect(failure('echo `x`')).toEqual({ col: 6, message: 'command substitution is not supported' });
    expect(failure('echo 1 2> f')).toEqual({ col: 8, message: "redirection '2>' is not supported" });
    expect(failure('echo 1 > f > g')).toEqual({ col: 12, message: 'only one redirection is supported' });
    expect(failure('echo 1 >')).toEqual({ col: 9, message: "expected a file name after '>'" });
    expect(failure('cat /proc/x > /tmp/out')).toEqual({
      col: 15,
      message: "only echo can write to a file; 'cat > /dev/kmsg' sends output to the kernel log",
    });
    expect(failure('echo "abc')).toEqual({ col: 6, message: 'unterminated double quote' });
    expect(failure("echo 'abc")).toEqual({ col: 6, message: 'unterminated single quote' });
    expect(failure('echo a\\')).toEqual({ col: 7, message: 'trailing backslash' });
    // A lone `$` is literal in sh too.
    expect(parseShellCommand('echo $ 5$')).toEqual({ cmd: 'echo', value: '$ 5$' });
  });
});
