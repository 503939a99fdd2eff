/**
 * Read-only views of the core's accounts for plugins, behind a token so plugins never import
 * the entities. The accounts feature implements it (`UserDirectory`); AppModule wires it.
 */
export interface AccountDirectory {
  /** The account's primary e-mail address if verified, else `null`. */
  primaryEmail(userId: string): Promise<string | null>;
  /** Ids of the accounts that manage the project (Owners and Maintainers). */
  projectMaintainers(projectId: string): Promise<string[]>;
}
export const ACCOUNT_DIRECTORY = Symbol('larder.account-directory');
