import picomatch from 'picomatch';
import type { Action } from '../access.js';
import { ACTIONS, type AccessRule } from './config.js';

interface CompiledRule {
  matches: (repo: string) => boolean;
  /** The rule is for every repository (`repos: "**"`). */
  everywhere: boolean;
  users: Set<string>;
  anonymous: boolean;
  actions: Action[];
}

/**
 * The `access:` rules. For a logged-in user the first rule that names them
 * (directly or through a group) and matches the repository decides, so an
 * earlier rule can narrow a later, broader one; on top of that everyone gets
 * what the first matching `anonymous: true` rule grants, since a user could
 * always log out to get it. No matching rule: nothing (default deny).
 */
export class AccessPolicy {
  private readonly rules: CompiledRule[];

  constructor(rules: AccessRule[], groups: Record<string, string[]>) {
    this.rules = rules.map((r) => ({
      matches: picomatch(r.repos),
      everywhere: (Array.isArray(r.repos) ? r.repos : [r.repos]).includes('**'),
      users: new Set([...r.users, ...r.groups.flatMap((g) => groups[g] ?? [])]),
      anonymous: r.anonymous,
      actions: r.actions.includes('*') ? [...ACTIONS] : (r.actions as Action[]),
    }));
  }

  /** The actions `user` (null: anonymous) may take on `repo`. */
  allowed(user: string | null, repo: string): Set<Action> {
    const anon = this.rules.find((r) => r.anonymous && r.matches(repo))?.actions ?? [];
    const named = user === null ? [] : (this.rules.find((r) => r.users.has(user) && r.matches(repo))?.actions ?? []);
    return new Set([...anon, ...named]);
  }

  allows(user: string | null, repo: string, actions: Action[]): boolean {
    const allowed = this.allowed(user, repo);
    return actions.every((a) => allowed.has(a));
  }

  /**
   * Whether `action` is allowed on every repository there is or will be: the
   * rule deciding for the user is a `repos: "**"` rule granting it (for a
   * logged-in user, the first rule naming them), or an anonymous one is.
   */
  allowsEverywhere(user: string | null, action: Action): boolean {
    const grantsIt = (r: CompiledRule | undefined) => r !== undefined && r.everywhere && r.actions.includes(action);
    if (grantsIt(this.rules.find((r) => r.anonymous && r.everywhere))) return true;
    return user !== null && grantsIt(this.rules.find((r) => r.users.has(user)));
  }
}
