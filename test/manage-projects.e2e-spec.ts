import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runAsSystem } from '../src/context/request-context.js';
import { BlobJanitor } from '../src/packages/blob-janitor.service.js';
import { ReleaseFile } from '../src/packages/release-file.entity.js';
import { Release } from '../src/packages/release.entity.js';
import { Project } from '../src/projects/project.entity.js';
import { RoleInvitation } from '../src/projects/role-invitation.entity.js';
import { Role } from '../src/projects/role.entity.js';
import { STORAGE } from '../src/storage/storage.module.js';
import type { StorageDriver } from '../src/storage/storage-driver.js';
import { buildSdist, buildWheel } from './helpers/dists.js';
import {
  basicAuth,
  createToken,
  createUser,
  login,
  type SignedInAgent,
  type TestUser,
} from './helpers/factories.js';
import { grantRole } from './helpers/projects.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { upload } from './helpers/uploads.js';

describe('project management pages', () => {
  let t: TestApp;
  let owner: TestUser;
  let ownerToken: string;
  let maintainer: TestUser;
  let stranger: TestUser;
  let asOwner: SignedInAgent;
  let asMaintainer: SignedInAgent;
  let asStranger: SignedInAgent;

  async function blobs(): Promise<number> {
    const root = join(t.config.dataDir, 'files');
    const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isFile()).length;
  }

  beforeAll(async () => {
    t = await createTestApp();
    owner = await createUser(t);
    ownerToken = (await createToken(t, owner.user)).value;
    maintainer = await createUser(t);
    stranger = await createUser(t);
    for (const version of ['1.0', '1.1', '2.0']) {
      const wheel = await buildWheel({ name: 'gizmo', version });
      await upload(t, wheel, 'gizmo', version, { token: ownerToken }).expect(200);
    }
    await upload(t, await buildSdist({ name: 'gizmo', version: '1.0' }), 'gizmo', '1.0', {
      token: ownerToken,
    }).expect(200);
    await grantRole(t, 'gizmo', maintainer.user, 'Maintainer');
    asOwner = await login(t, owner);
    asMaintainer = await login(t, maintainer);
    asStranger = await login(t, stranger);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists the projects of the signed-in user with their role; anonymous is sent to sign in', async () => {
    const mine = await asOwner.agent.get('/manage/projects/').expect(200);
    expect(mine.text).toContain('href="/manage/project/gizmo/releases/"');
    expect(mine.text).toContain('Owner');
    const theirs = await asStranger.agent.get('/manage/projects/').expect(200);
    expect(theirs.text).not.toContain('gizmo');
    const anon = await t.http().get('/manage/projects/').expect(303);
    expect(anon.headers.location).toMatch(/^\/account\/login\//);
  });

  it('shows releases to maintainers with the tabs they may see, and nothing to strangers', async () => {
    const page = await asMaintainer.agent.get('/manage/project/gizmo/releases/').expect(200);
    expect(page.text).toContain('2.0');
    expect(page.text).toContain('Releases');
    expect(page.text).not.toContain('/manage/project/gizmo/settings/');
    const ownerPage = await asOwner.agent.get('/manage/project/gizmo/releases/').expect(200);
    expect(ownerPage.text).toContain('/manage/project/gizmo/collaboration/');
    expect(ownerPage.text).toContain('/manage/project/gizmo/settings/');
    await asStranger.agent.get('/manage/project/gizmo/releases/').expect(403);
    await asStranger.agent.get('/manage/project/nope/releases/').expect(404);
    await asMaintainer.agent.get('/manage/project/gizmo/collaboration/').expect(403);
    await asMaintainer.agent.get('/manage/project/gizmo/settings/').expect(403);
  });

  it('lets an owner yank and un-yank with a reason; maintainers, strangers and tokens may not', async () => {
    const yank = (who: SignedInAgent, csrf = who.csrf) =>
      who.agent
        .post('/manage/project/gizmo/release/1.1/yank')
        .type('form')
        .send({ reason: 'bad build', csrf_token: csrf });
    await yank(asMaintainer).expect(403);
    await yank(asStranger).expect(403);
    await yank(asOwner, 'forged').expect(403);
    await t
      .http()
      .post('/manage/project/gizmo/release/1.1/yank')
      .set('Authorization', basicAuth(ownerToken))
      .type('form')
      .send({ reason: 'x' })
      .expect(303)
      // Management pages take browser sessions only: a token is no sign-in here.
      .expect('Location', /^\/account\/login\//);
    const release = () => t.dataSource.manager.findOneByOrFail(Release, { version: '1.1' });
    expect((await release()).yanked).toBe(false);
    const res = await yank(asOwner).expect(303);
    expect(res.headers.location).toBe('/manage/project/gizmo/release/1.1/');
    expect(await release()).toMatchObject({ yanked: true, yankedReason: 'bad build' });
    const simple = await t.http().get('/simple/gizmo/').expect(200);
    expect(simple.text).toMatch(/data-yanked="bad build"[^>]*>gizmo-1.1-py3-none-any.whl/);
    await asOwner.agent
      .post('/manage/project/gizmo/release/1.1/unyank')
      .type('form')
      .send({ csrf_token: asOwner.csrf })
      .expect(303);
    expect(await release()).toMatchObject({ yanked: false, yankedReason: null });
  });

  it('deletes a file, then a release only when its version is typed, removing the stored bytes', async () => {
    const before = await blobs();
    await asOwner.agent
      .post('/manage/project/gizmo/release/1.0/delete-file')
      .type('form')
      .send({ filename: 'gizmo-1.0.tar.gz', csrf_token: asOwner.csrf })
      .expect(303);
    expect(await t.dataSource.manager.countBy(ReleaseFile, { filename: 'gizmo-1.0.tar.gz' })).toBe(
      0,
    );
    // A file and its .metadata.
    expect(await blobs()).toBe(before - 2);
    await asOwner.agent
      .post('/manage/project/gizmo/release/1.0/delete')
      .type('form')
      .send({ confirm_version: '9.9', csrf_token: asOwner.csrf })
      .expect(400);
    expect(await t.dataSource.manager.countBy(Release, { version: '1.0' })).toBe(1);
    await asOwner.agent
      .post('/manage/project/gizmo/release/1.0/delete')
      .type('form')
      .send({ confirm_version: '1.0.0', csrf_token: asOwner.csrf })
      .expect(303);
    expect(await t.dataSource.manager.countBy(Release, { version: '1.0' })).toBe(0);
    expect(await blobs()).toBe(before - 4);
    // The filename stays used: the same name with other bytes is refused.
    const again = await buildWheel({ name: 'gizmo', version: '1.0', description: 'new bytes' });
    const res = await upload(t, again, 'gizmo', '1.0', { token: ownerToken }).expect(400);
    expect(res.body.message).toContain('previously used by a file that has since been deleted');
  });

  describe('collaboration', () => {
    it('invites by username; the invitee accepts and becomes a collaborator', async () => {
      const newcomer = await createUser(t);
      await asOwner.agent
        .post('/manage/project/gizmo/collaboration/invite')
        .type('form')
        .send({
          username: newcomer.username.toUpperCase(),
          role: 'Maintainer',
          csrf_token: asOwner.csrf,
        })
        .expect(303);
      const asNewcomer = await login(t, newcomer);
      const list = await asNewcomer.agent.get('/manage/projects/').expect(200);
      expect(list.text).toContain('Pending invitations');
      const invitation = await t.dataSource.manager.findOneByOrFail(RoleInvitation, {
        userId: newcomer.user.id,
      });
      // Nobody else can accept it.
      await asStranger.agent
        .post(`/manage/invitations/${invitation.id}/accept`)
        .type('form')
        .send({ csrf_token: asStranger.csrf })
        .expect(404);
      await asNewcomer.agent
        .post(`/manage/invitations/${invitation.id}/accept`)
        .type('form')
        .send({ csrf_token: asNewcomer.csrf })
        .expect(303);
      const project = await t.dataSource.manager.findOneByOrFail(Project, {
        normalizedName: 'gizmo',
      });
      expect(
        await t.dataSource.manager.findOneBy(Role, {
          projectId: project.id,
          userId: newcomer.user.id,
        }),
      ).toMatchObject({
        roleName: 'Maintainer',
      });
      expect(await t.dataSource.manager.countBy(RoleInvitation, { userId: newcomer.user.id })).toBe(
        0,
      );
    });

    it('refuses unknown users and double invitations; invitations can be declined, revoked, and expire', async () => {
      const invite = (username: string) =>
        asOwner.agent
          .post('/manage/project/gizmo/collaboration/invite')
          .type('form')
          .send({ username, role: 'Owner', csrf_token: asOwner.csrf });
      await invite('no-such-user').expect(400);
      await invite(maintainer.username).expect(400);
      const decliner = await createUser(t);
      await invite(decliner.username).expect(303);
      await invite(decliner.username).expect(400);
      const asDecliner = await login(t, decliner);
      const inv = await t.dataSource.manager.findOneByOrFail(RoleInvitation, {
        userId: decliner.user.id,
      });
      await asDecliner.agent
        .post(`/manage/invitations/${inv.id}/decline`)
        .type('form')
        .send({ csrf_token: asDecliner.csrf })
        .expect(303);
      expect(await t.dataSource.manager.countBy(RoleInvitation, { userId: decliner.user.id })).toBe(
        0,
      );

      const revoked = await createUser(t);
      await invite(revoked.username).expect(303);
      const inv2 = await t.dataSource.manager.findOneByOrFail(RoleInvitation, {
        userId: revoked.user.id,
      });
      await asMaintainer.agent
        .post(`/manage/project/gizmo/collaboration/invitation/${inv2.id}/revoke`)
        .type('form')
        .send({ csrf_token: asMaintainer.csrf })
        .expect(403);
      await asOwner.agent
        .post(`/manage/project/gizmo/collaboration/invitation/${inv2.id}/revoke`)
        .type('form')
        .send({ csrf_token: asOwner.csrf })
        .expect(303);
      expect(await t.dataSource.manager.countBy(RoleInvitation, { userId: revoked.user.id })).toBe(
        0,
      );

      const late = await createUser(t);
      await invite(late.username).expect(303);
      const inv3 = await t.dataSource.manager.findOneByOrFail(RoleInvitation, {
        userId: late.user.id,
      });
      inv3.expiresAt = new Date(Date.now() - 1000);
      await runAsSystem('test', () => t.dataSource.manager.save(inv3));
      const asLate = await login(t, late);
      const res = await asLate.agent
        .post(`/manage/invitations/${inv3.id}/accept`)
        .type('form')
        .set('Accept', 'application/json')
        .send({ csrf_token: asLate.csrf })
        .expect(400);
      expect(res.body.message).toContain('expired');
    });

    it('changes roles and removes collaborators, but never the last owner', async () => {
      const project = await t.dataSource.manager.findOneByOrFail(Project, {
        normalizedName: 'gizmo',
      });
      const ownerRole = await t.dataSource.manager.findOneByOrFail(Role, {
        projectId: project.id,
        userId: owner.user.id,
      });
      const res = await asOwner.agent
        .post(`/manage/project/gizmo/collaboration/role/${ownerRole.id}/remove`)
        .type('form')
        .set('Accept', 'application/json')
        .send({ csrf_token: asOwner.csrf })
        .expect(409);
      expect(res.body.message).toContain('must keep at least one Owner');
      await asOwner.agent
        .post(`/manage/project/gizmo/collaboration/role/${ownerRole.id}/change`)
        .type('form')
        .send({ role: 'Maintainer', csrf_token: asOwner.csrf })
        .expect(409);
      const mRole = await t.dataSource.manager.findOneByOrFail(Role, {
        projectId: project.id,
        userId: maintainer.user.id,
      });
      await asOwner.agent
        .post(`/manage/project/gizmo/collaboration/role/${mRole.id}/change`)
        .type('form')
        .send({ role: 'Owner', csrf_token: asOwner.csrf })
        .expect(303);
      expect((await t.dataSource.manager.findOneByOrFail(Role, { id: mRole.id })).roleName).toBe(
        'Owner',
      );
      await asOwner.agent
        .post(`/manage/project/gizmo/collaboration/role/${mRole.id}/remove`)
        .type('form')
        .send({ csrf_token: asOwner.csrf })
        .expect(303);
      expect(await t.dataSource.manager.countBy(Role, { id: mRole.id })).toBe(0);
      // Removed: the former maintainer can no longer upload.
      const token = (await createToken(t, maintainer.user)).value;
      await upload(t, await buildWheel({ name: 'gizmo', version: '3.0' }), 'gizmo', '3.0', {
        token,
      }).expect(403);
    });
  });

  it('deletes a whole project only when its name is typed, with every row and blob', async () => {
    const wrong = await asOwner.agent
      .post('/manage/project/gizmo/delete')
      .type('form')
      .set('Accept', 'application/json')
      .send({ confirm_project_name: 'gadget', csrf_token: asOwner.csrf })
      .expect(400);
    expect(wrong.body.message).toContain('to confirm deleting it');
    expect(await t.dataSource.manager.countBy(Project, { normalizedName: 'gizmo' })).toBe(1);
    await asOwner.agent
      .post('/manage/project/gizmo/delete')
      .type('form')
      .send({ confirm_project_name: 'Gizmo', csrf_token: asOwner.csrf })
      .expect(303);
    expect(await t.dataSource.manager.countBy(Project, { normalizedName: 'gizmo' })).toBe(0);
    expect(await t.dataSource.manager.count(ReleaseFile)).toBe(0);
    expect(await blobs()).toBe(0);
    await t.http().get('/simple/gizmo/').expect(404);
  });

  it('sweeps blobs no row references once they are older than the grace period', async () => {
    const storage = t.app.get<StorageDriver>(STORAGE);
    const { Readable } = await import('node:stream');
    const orphan = await storage.put(Readable.from([Buffer.from('orphan')]), {
      filename: 'orphan.whl',
      maxBytes: 100,
    });
    const kept = await buildWheel({ name: 'kept', version: '1.0' });
    await upload(t, kept, 'kept', '1.0', { token: ownerToken }).expect(200);
    const janitor = t.app.get(BlobJanitor);
    expect((await janitor.sweep()).deleted).toEqual([]);
    const swept = await janitor.sweep({ graceMs: 0 });
    expect(swept.deleted).toEqual([orphan.key]);
    expect(await storage.stat(orphan.key)).toBeNull();
    await t.http().get('/simple/kept/').expect(200);
    expect(await blobs()).toBe(2);
  });
});
