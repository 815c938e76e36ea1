/**
 * Which of the object's changes a version ledger is known to hold, for its copies' answers
 * (minute, hour and provider totals). A send is the changes after its `since` up to its
 * `through`; sends can land out of order (one in its retry backoff while the next goes), and an
 * answer taken in between would pair the newer send's version with sums lacking the older's
 * changes: a tag that stays put once the older send lands, over an answer that lacks it. So the
 * copies answer only while every change up to the newest one applied is held, with no gap, and
 * up to the newest data version the object reported (a row rewritten during a long walk is sent
 * later, by the commit that rewrote it). Version lookups (304s) need no such care: a gap there is
 * a commit nobody has been acknowledged yet.
 */
export class Coverage {
  /** Every change up to this version is held. */
  private upTo = 0;
  /** Sends held past a gap, as (since, through]: they count once the gap closes. */
  private ahead: [number, number][] = [];
  /** The newest data version the object has reported. */
  private head = 0;

  /** A whole send (or a walk's last page) applied: its changes after `since` up to `through`. */
  add(since: number, through: number): void {
    if (through <= this.upTo) return;
    this.ahead.push([since, through]);
    this.ahead.sort((a, b) => a[0] - b[0]);
    while (this.ahead[0] && this.ahead[0][0] <= this.upTo) {
      this.upTo = Math.max(this.upTo, this.ahead[0][1]);
      this.ahead.shift();
    }
    this.ahead = this.ahead.filter(([, t]) => t > this.upTo);
  }

  /** The object's data version when it read a page. */
  saw(version: number): void {
    if (version > this.head) this.head = version;
  }

  /** Whether every change up to `v` (the newest applied) and up to the object's last reported version is held. */
  covers(v: number): boolean {
    return this.upTo >= v && this.upTo >= this.head;
  }
}
