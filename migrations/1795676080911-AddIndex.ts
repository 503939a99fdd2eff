import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddIndex1795676080911 implements MigrationInterface {
  name = 'AddIndex1795676080911';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "filename_registry" ("filename" character varying(255) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_a9952c1e4429c0ac3133d25b58a" PRIMARY KEY ("filename"))',
    );
    await queryRunner.query(
      'CREATE TABLE "projects" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(200) NOT NULL, "normalized_name" character varying(200) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_6271df0a7aed1d6c0691ce6ac50" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "UQ_projects_normalized_name" ON "projects"  ("normalized_name") ',
    );
    await queryRunner.query(
      'CREATE TABLE "releases" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "version" character varying(100) NOT NULL, "canonical_version" character varying(100) NOT NULL, "is_prerelease" boolean NOT NULL DEFAULT false, "yanked" boolean NOT NULL DEFAULT false, "yanked_reason" text, "requires_python" text, "summary" text, "description" text, "description_content_type" character varying(200), "metadata_version" character varying(10), "metadata" jsonb NOT NULL DEFAULT \'{}\', "uploader_id" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_6b6fc2599a5a281dd44a7d64016" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "UQ_releases_project_id_canonical_version" ON "releases"  ("project_id", "canonical_version") ',
    );
    await queryRunner.query(
      'CREATE TABLE "release_files" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "release_id" uuid NOT NULL, "project_id" uuid NOT NULL, "filename" character varying(255) NOT NULL, "size" bigint NOT NULL, "sha256" character(64) NOT NULL, "blake2_256" character(64) NOT NULL, "md5" character(32) NOT NULL, "packagetype" character varying(20) NOT NULL, "python_version" character varying(100) NOT NULL, "requires_python" text, "storage_key" text NOT NULL, "metadata_key" text, "metadata_sha256" character(64), "metadata_blake2_256" character(64), "comment" text, "uploader_id" uuid, "upload_time" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_9089c7c35467bdbe87ada333f01" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_release_files_release_id" ON "release_files"  ("release_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_release_files_project_id" ON "release_files"  ("project_id") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "UQ_release_files_filename" ON "release_files"  ("filename") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_release_files_sha256" ON "release_files"  ("sha256") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_release_files_storage_key" ON "release_files"  ("storage_key") ',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_release_files_metadata_key" ON "release_files"  ("metadata_key") ',
    );
    await queryRunner.query(
      'CREATE TABLE "role_invitations" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "user_id" uuid NOT NULL, "invited_by_id" uuid, "role_name" character varying(20) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_55c5da30f2a4927ba77d0638958" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "IDX_role_invitations_user_id" ON "role_invitations"  ("user_id") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "UQ_role_invitations_project_id_user_id" ON "role_invitations"  ("project_id", "user_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "roles" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "user_id" uuid NOT NULL, "role_name" character varying(20) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_c1433d71a4838793a49dcad46ab" PRIMARY KEY ("id"))',
    );
    await queryRunner.query('CREATE INDEX "IDX_roles_user_id" ON "roles"  ("user_id") ');
    await queryRunner.query(
      'CREATE UNIQUE INDEX "UQ_roles_project_id_user_id" ON "roles"  ("project_id", "user_id") ',
    );
    await queryRunner.query(
      'ALTER TABLE "releases" ADD CONSTRAINT "FK_02bc65837f42eebd942c688fb25" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "releases" ADD CONSTRAINT "FK_e5198281d4138cb9274824e5b96" FOREIGN KEY ("uploader_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "release_files" ADD CONSTRAINT "FK_53bac8f3355c16b086388d65a4f" FOREIGN KEY ("release_id") REFERENCES "releases"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "release_files" ADD CONSTRAINT "FK_fd28b531756c3b25da4f2222de5" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "release_files" ADD CONSTRAINT "FK_2cdfa1d321dc56e97bb6aceb38c" FOREIGN KEY ("uploader_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "role_invitations" ADD CONSTRAINT "FK_54f79a43c95441484aeb190f96c" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "role_invitations" ADD CONSTRAINT "FK_e149622362ae87d01fb0f88e2ac" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "role_invitations" ADD CONSTRAINT "FK_eb8d4e38dbc3559710358aa8619" FOREIGN KEY ("invited_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "roles" ADD CONSTRAINT "FK_cb48212dfe65dfe431d486034d2" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "roles" ADD CONSTRAINT "FK_a969861629af37cd1c7f4ff3e6b" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "roles" DROP CONSTRAINT "FK_a969861629af37cd1c7f4ff3e6b"');
    await queryRunner.query('ALTER TABLE "roles" DROP CONSTRAINT "FK_cb48212dfe65dfe431d486034d2"');
    await queryRunner.query(
      'ALTER TABLE "role_invitations" DROP CONSTRAINT "FK_eb8d4e38dbc3559710358aa8619"',
    );
    await queryRunner.query(
      'ALTER TABLE "role_invitations" DROP CONSTRAINT "FK_e149622362ae87d01fb0f88e2ac"',
    );
    await queryRunner.query(
      'ALTER TABLE "role_invitations" DROP CONSTRAINT "FK_54f79a43c95441484aeb190f96c"',
    );
    await queryRunner.query(
      'ALTER TABLE "release_files" DROP CONSTRAINT "FK_2cdfa1d321dc56e97bb6aceb38c"',
    );
    await queryRunner.query(
      'ALTER TABLE "release_files" DROP CONSTRAINT "FK_fd28b531756c3b25da4f2222de5"',
    );
    await queryRunner.query(
      'ALTER TABLE "release_files" DROP CONSTRAINT "FK_53bac8f3355c16b086388d65a4f"',
    );
    await queryRunner.query(
      'ALTER TABLE "releases" DROP CONSTRAINT "FK_e5198281d4138cb9274824e5b96"',
    );
    await queryRunner.query(
      'ALTER TABLE "releases" DROP CONSTRAINT "FK_02bc65837f42eebd942c688fb25"',
    );
    await queryRunner.query('DROP INDEX "public"."UQ_roles_project_id_user_id"');
    await queryRunner.query('DROP INDEX "public"."IDX_roles_user_id"');
    await queryRunner.query('DROP TABLE "roles"');
    await queryRunner.query('DROP INDEX "public"."UQ_role_invitations_project_id_user_id"');
    await queryRunner.query('DROP INDEX "public"."IDX_role_invitations_user_id"');
    await queryRunner.query('DROP TABLE "role_invitations"');
    await queryRunner.query('DROP INDEX "public"."IDX_release_files_metadata_key"');
    await queryRunner.query('DROP INDEX "public"."IDX_release_files_storage_key"');
    await queryRunner.query('DROP INDEX "public"."IDX_release_files_sha256"');
    await queryRunner.query('DROP INDEX "public"."UQ_release_files_filename"');
    await queryRunner.query('DROP INDEX "public"."IDX_release_files_project_id"');
    await queryRunner.query('DROP INDEX "public"."IDX_release_files_release_id"');
    await queryRunner.query('DROP TABLE "release_files"');
    await queryRunner.query('DROP INDEX "public"."UQ_releases_project_id_canonical_version"');
    await queryRunner.query('DROP TABLE "releases"');
    await queryRunner.query('DROP INDEX "public"."UQ_projects_normalized_name"');
    await queryRunner.query('DROP TABLE "projects"');
    await queryRunner.query('DROP TABLE "filename_registry"');
  }
}
