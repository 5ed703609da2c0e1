"""The admin screen's users card: import a class from CSV (credentials shown
once, a printable sheet), create an account, change a role, disable a
logged-in student (their page returns to the login), reset a password."""

from __future__ import annotations

from hftsim.testing import ServerProcess
from playwright.sync_api import expect

from .conftest import PageFactory
from .helpers import admin_page, login_user, snap


def test_instructor_imports_a_class_and_manages_it(class_server: ServerProcess, new_page: PageFactory) -> None:
    admin = admin_page(new_page, class_server.url)
    admin.get_by_test_id("admin-csv").fill("username,password\nstu1,stu1-pass-1\nstu2\n")
    admin.get_by_test_id("admin-import-submit").click()
    expect(admin.get_by_test_id("admin-issued-stu1")).to_contain_text("stu1-pass-1")
    expect(admin.get_by_test_id("admin-user-stu2")).to_contain_text("trader")
    generated = admin.get_by_test_id("admin-issued-stu2").locator("td").nth(1).inner_text()
    assert len(generated) == 12
    with admin.context.expect_page() as sheet_page:
        admin.get_by_test_id("admin-sheet").click()
    sheet = sheet_page.value
    expect(sheet.locator(".card")).to_have_count(2)
    expect(sheet.locator("body")).to_contain_text(generated)
    snap(admin, "admin-users-imported")

    student = new_page(class_server.url)
    login_user(student, "stu2", generated)
    expect(student.get_by_test_id("user-name")).to_have_text("stu2")

    # One more account by hand, as a viewer, then promoted.
    admin.get_by_test_id("admin-new-username").fill("ta")
    admin.get_by_test_id("admin-new-role").select_option("viewer")
    admin.get_by_test_id("admin-create-submit").click()
    expect(admin.get_by_test_id("admin-issued-ta")).to_be_visible()
    expect(admin.get_by_test_id("admin-user-ta")).to_contain_text("viewer")
    admin.get_by_test_id("admin-role-ta").select_option("admin")
    expect(admin.get_by_test_id("admin-user-ta")).to_contain_text("admin, trader, viewer")

    # Disabling a logged-in student sends their page back to the login.
    admin.get_by_test_id("admin-toggle-stu2").click()
    expect(admin.get_by_test_id("admin-user-stu2")).to_have_attribute("data-disabled", "true")
    expect(student.get_by_test_id("login-page")).to_be_visible()
    student.get_by_test_id("login-username").fill("stu2")
    student.get_by_test_id("login-password").fill(generated)
    student.get_by_test_id("login-submit").click()
    expect(student.get_by_test_id("login-error")).to_contain_text("ACCOUNT_DISABLED")

    # Enabled again with a new password.
    admin.get_by_test_id("admin-toggle-stu2").click()
    expect(admin.get_by_test_id("admin-user-stu2")).to_have_attribute("data-disabled", "false")
    admin.get_by_test_id("admin-reset-stu2").click()
    fresh = admin.get_by_test_id("admin-issued-stu2").locator("td").nth(1)
    expect(fresh).not_to_have_text(generated)
    login_user(student, "stu2", fresh.inner_text())
    expect(student.get_by_test_id("user-name")).to_have_text("stu2")
