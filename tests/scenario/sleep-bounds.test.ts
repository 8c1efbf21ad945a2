/**
 * Sleeps and timeouts are bounded where the kernel bounds them (msleep()'s `unsigned int msecs`), and the
 * steps' sleeps must end before simulated time does (2^53 - 1 ns): a huge value is refused at its field,
 * never wrapped or waited out.
 */
import { errorsOf } from './helpers';

const head = 'name: x\nkernel:\n  functions:\n    f: |\n      ret\n';

describe('sleep and timeout bounds', () => {
  it("refuses a sleep_ms beyond msleep()'s unsigned int, in a task, a start_task, a step and a wait timeout", () => {
    const text =
      `${head}tasks:\n  - { name: t, run: [ { call: f }, { sleep_ms: 10000000000000 } ] }\n` +
      'modules:\n  m:\n    init:\n      - start_task: { name: w, run: [ { sleep_ms: 4294967296 } ] }\n' +
      'steps:\n  - sleep_ms: 9000000000000\n  - wait: transition\n    timeout_ms: 4294967296\n';
    expect(errorsOf(text)).toEqual([
      'test.yaml:7:48: must be at most 4294967295, got the number 10000000000000',
      'test.yaml:11:51: must be at most 4294967295, got the number 4294967296',
      'test.yaml:13:15: must be at most 4294967295, got the number 9000000000000',
      'test.yaml:15:17: must be at most 4294967295, got the number 4294967296',
    ]);
  });

  it('accepts the longest msleep()', () => {
    expect(() => errorsOf(`${head}steps:\n  - sleep_ms: 4294967295\n`)).toThrow('parsed without errors');
  });

  it('refuses the step whose sleep takes the steps past the end of simulated time', () => {
    const text = `${head}steps:\n  - sleep_ms: 4294967295\n  - sleep_ms: 4294967295\n  - sleep_ms: 4294967295\n  - sleep_ms: 4294967295\n`;
    expect(errorsOf(text)).toEqual([
      'test.yaml:9:5: the steps sleep 12884901885 ms by here, past the end of simulated time (9007199254 ms, about 104 days)',
    ]);
  });
});
