"""The account menu (認証・契約情報変更メニュー): what a signed-in person may change."""
