import { describe, expect, it } from '@jest/globals';
import { ControllableClock } from '../../src/simulator/clock.js';

describe('ControllableClock', () => {
  it('runs due tasks in time order inside advance(), and cancelled ones never', async () => {
    let source = 1_000;
    const clock = new ControllableClock(() => source);
    const ran: string[] = [];
    clock.schedule(3_000, () => ran.push('c'));
    clock.schedule(2_000, () => ran.push('b1'));
    clock.schedule(2_000, () => ran.push('b2'));
    const cancel = clock.schedule(2_500, () => ran.push('cancelled'));
    clock.schedule(10_000, () => ran.push('later'));
    cancel();
    await clock.advance(2_000);
    expect(clock.now()).toBe(3_000);
    expect(ran).toEqual(['b1', 'b2', 'c']);
    source = 2_000; // the source clock moving on moves simulated time too
    expect(clock.now()).toBe(4_000);
    await clock.set(10_000);
    expect(ran).toEqual(['b1', 'b2', 'c', 'later']);
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
    clock.close();
  });

  it('runs a task on its own timer when time passes without advance()', async () => {
    const clock = new ControllableClock(() => 5_000);
    let ran = false;
    clock.schedule(5_000, () => {
      ran = true;
    });
    expect(ran).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(ran).toBe(true);
    clock.close();
  });

  it('a failing task does not stop the others', async () => {
    const clock = new ControllableClock(() => 0);
    const ran: number[] = [];
    clock.schedule(1, () => {
      throw new Error('boom');
    });
    clock.schedule(2, () => ran.push(2));
    await clock.advance(5);
    expect(ran).toEqual([2]);
    clock.close();
  });
});
