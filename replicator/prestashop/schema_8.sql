-- PrestaShop 8.x schema fixture for the replicator: only the tables it reads or writes, plus the few it keeps
-- consistent (lang_shop, *_shop copies, product_sale, order_invoice_tax).
--
-- Placeholders: PREFIX_ (table prefix, e.g. ps_).  Column names, types, nullability and defaults follow the
-- PrestaShop 8.2 install schema (install/data/db_structure.sql) and, for the tables PrestaShop creates from
-- Doctrine entities (lang, shop, attribute*, stock_mvt; marked below), the DDL of a real 8.2.1 install.  A test
-- compares this file column by column with those references when they are available.
--
-- Layout is our own: no comments from the original, readable names for the hashed Doctrine index names,
-- keys kept where PrestaShop queries rely on them (primary, unique, lookups).  No foreign keys, like PrestaShop.
-- The 1.7.8 variant is derived from this file by replicator.prestashop.schema (see VERSION_DELTAS there).
SET SESSION sql_mode = '';

-- ==== Shops, languages, configuration ====
CREATE TABLE `PREFIX_shop_group` (  -- Doctrine entity (not in db_structure.sql)
  id_shop_group int(11) NOT NULL AUTO_INCREMENT,
  name varchar(64) NOT NULL,
  color varchar(50) NOT NULL,
  share_customer tinyint(1) NOT NULL,
  share_order tinyint(1) NOT NULL,
  share_stock tinyint(1) NOT NULL,
  active tinyint(1) NOT NULL,
  deleted tinyint(1) NOT NULL,
  PRIMARY KEY (id_shop_group)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE `PREFIX_shop` (  -- Doctrine entity (not in db_structure.sql)
  id_shop int(11) NOT NULL AUTO_INCREMENT,
  id_shop_group int(11) NOT NULL,
  name varchar(64) NOT NULL,
  color varchar(50) NOT NULL,
  id_category int(11) NOT NULL,
  theme_name varchar(255) NOT NULL,
  active tinyint(1) NOT NULL,
  deleted tinyint(1) NOT NULL,
  PRIMARY KEY (id_shop),
  KEY idx_id_shop_group (id_shop_group)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE `PREFIX_shop_url` (
  id_shop_url int(11) unsigned NOT NULL AUTO_INCREMENT,
  id_shop int(11) unsigned NOT NULL,
  domain varchar(150) NOT NULL,
  domain_ssl varchar(150) NOT NULL,
  physical_uri varchar(64) NOT NULL,
  virtual_uri varchar(64) NOT NULL,
  main tinyint(1) NOT NULL,
  active tinyint(1) NOT NULL,
  PRIMARY KEY (id_shop_url),
  KEY id_shop (id_shop,main),
  UNIQUE KEY full_shop_url (domain,physical_uri,virtual_uri),
  UNIQUE KEY full_shop_url_ssl (domain_ssl,physical_uri,virtual_uri)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_lang` (  -- Doctrine entity (not in db_structure.sql)
  id_lang int(11) NOT NULL AUTO_INCREMENT,
  name varchar(32) NOT NULL,
  active tinyint(1) NOT NULL,
  iso_code varchar(2) NOT NULL,
  language_code varchar(5) NOT NULL,
  locale varchar(5) NOT NULL,
  date_format_lite varchar(32) NOT NULL,
  date_format_full varchar(32) NOT NULL,
  is_rtl tinyint(1) NOT NULL,
  PRIMARY KEY (id_lang)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE `PREFIX_lang_shop` (  -- Doctrine entity (not in db_structure.sql)
  id_lang int(11) NOT NULL,
  id_shop int(11) NOT NULL,
  PRIMARY KEY (id_lang,id_shop),
  KEY idx_id_lang (id_lang),
  KEY idx_id_shop (id_shop)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE `PREFIX_configuration` (
  id_configuration int(10) unsigned NOT NULL AUTO_INCREMENT,
  id_shop_group int(11) unsigned DEFAULT NULL,
  id_shop int(11) unsigned DEFAULT NULL,
  name varchar(254) NOT NULL,
  value mediumtext DEFAULT NULL,
  date_add datetime NOT NULL,
  date_upd datetime NOT NULL,
  PRIMARY KEY (id_configuration),
  KEY name (name),
  KEY id_shop (id_shop),
  KEY id_shop_group (id_shop_group)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_configuration_lang` (
  id_configuration int(10) unsigned NOT NULL,
  id_lang int(10) unsigned NOT NULL,
  value mediumtext DEFAULT NULL,
  date_upd datetime DEFAULT NULL,
  PRIMARY KEY (id_configuration,id_lang)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- ==== Geography and money ====
CREATE TABLE `PREFIX_zone` (
  id_zone int(10) unsigned NOT NULL AUTO_INCREMENT,
  name varchar(64) NOT NULL,
  active tinyint(1) unsigned NOT NULL DEFAULT '0',
  PRIMARY KEY (id_zone)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_country` (
  id_country int(10) unsigned NOT NULL AUTO_INCREMENT,
  id_zone int(10) unsigned NOT NULL,
  id_currency int(10) unsigned NOT NULL DEFAULT '0',
  iso_code varchar(3) NOT NULL,
  call_prefix int(10) NOT NULL DEFAULT '0',
  active tinyint(1) unsigned NOT NULL DEFAULT '0',
  contains_states tinyint(1) NOT NULL DEFAULT '0',
  need_identification_number tinyint(1) NOT NULL DEFAULT '0',
  need_zip_code tinyint(1) NOT NULL DEFAULT '1',
  zip_code_format varchar(12) NOT NULL DEFAULT '',
  display_tax_label tinyint(1) NOT NULL,
  PRIMARY KEY (id_country),
  KEY country_iso_code (iso_code),
  KEY country_ (id_zone)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_country_lang` (
  id_country int(10) unsigned NOT NULL,
  id_lang int(10) unsigned NOT NULL,
  name varchar(64) NOT NULL,
  PRIMARY KEY (id_country,id_lang)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_country_shop` (
  id_country int(11) unsigned NOT NULL,
  id_shop int(11) unsigned NOT NULL,
  PRIMARY KEY (id_country,id_shop),
  KEY id_shop (id_shop)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_state` (
  id_state int(10) unsigned NOT NULL AUTO_INCREMENT,
  id_country int(11) unsigned NOT NULL,
  id_zone int(11) unsigned NOT NULL,
  name varchar(80) NOT NULL,
  iso_code varchar(7) NOT NULL,
  tax_behavior smallint(1) NOT NULL DEFAULT '0',
  active tinyint(1) NOT NULL DEFAULT '0',
  PRIMARY KEY (id_state),
  KEY id_country (id_country),
  KEY name (name),
  KEY id_zone (id_zone)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_currency` (
  id_currency int(10) unsigned NOT NULL AUTO_INCREMENT,
  name varchar(64) NOT NULL,
  iso_code varchar(3) NOT NULL DEFAULT '0',
  numeric_iso_code varchar(3) DEFAULT NULL,
  `precision` int(2) NOT NULL DEFAULT '6',
  conversion_rate decimal(13,6) NOT NULL,
  deleted tinyint(1) unsigned NOT NULL DEFAULT '0',
  active tinyint(1) unsigned NOT NULL DEFAULT '1',
  unofficial tinyint(1) unsigned NOT NULL DEFAULT '0',
  modified tinyint(1) unsigned NOT NULL DEFAULT '0',
  PRIMARY KEY (id_currency),
  KEY currency_iso_code (iso_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_currency_lang` (
  id_currency int(10) unsigned NOT NULL,
  id_lang int(10) unsigned NOT NULL,
  name varchar(255) NOT NULL,
  symbol varchar(255) NOT NULL,
  pattern varchar(255) DEFAULT NULL,
  PRIMARY KEY (id_currency,id_lang)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_currency_shop` (
  id_currency int(11) unsigned NOT NULL,
  id_shop int(11) unsigned NOT NULL,
  conversion_rate decimal(13,6) NOT NULL,
  PRIMARY KEY (id_currency,id_shop),
  KEY id_shop (id_shop)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- ==== Taxes ====
CREATE TABLE `PREFIX_tax` (
  id_tax int(10) unsigned NOT NULL AUTO_INCREMENT,
  rate decimal(10,3) NOT NULL,
  active tinyint(1) unsigned NOT NULL DEFAULT '1',
  deleted tinyint(1) unsigned NOT NULL DEFAULT '0',
  PRIMARY KEY (id_tax)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_tax_lang` (
  id_tax int(10) unsigned NOT NULL,
  id_lang int(10) unsigned NOT NULL,
  name varchar(32) NOT NULL,
  PRIMARY KEY (id_tax,id_lang)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_tax_rules_group` (
  id_tax_rules_group int(11) NOT NULL AUTO_INCREMENT,
  name varchar(50) NOT NULL,
  active int(11) NOT NULL,
  deleted tinyint(1) unsigned NOT NULL,
  date_add datetime NOT NULL,
  date_upd datetime NOT NULL,
  PRIMARY KEY (id_tax_rules_group)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_tax_rules_group_shop` (
  id_tax_rules_group int(11) unsigned NOT NULL,
  id_shop int(11) unsigned NOT NULL,
  PRIMARY KEY (id_tax_rules_group,id_shop),
  KEY id_shop (id_shop)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_tax_rule` (
  id_tax_rule int(11) NOT NULL AUTO_INCREMENT,
  id_tax_rules_group int(11) NOT NULL,
  id_country int(11) NOT NULL,
  id_state int(11) NOT NULL,
  zipcode_from varchar(12) NOT NULL,
  zipcode_to varchar(12) NOT NULL,
  id_tax int(11) NOT NULL,
  behavior int(11) NOT NULL,
  description varchar(100) NOT NULL,
  PRIMARY KEY (id_tax_rule),
  KEY id_tax_rules_group (id_tax_rules_group),
  KEY id_tax (id_tax),
  KEY category_getproducts (id_tax_rules_group,id_country,id_state,zipcode_from)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- ==== Customers ====
CREATE TABLE `PREFIX_group` (
  id_group int(10) unsigned NOT NULL AUTO_INCREMENT,
  reduction decimal(5,2) NOT NULL DEFAULT '0',
  price_display_method tinyint(4) NOT NULL DEFAULT '0',
  show_prices tinyint(1) unsigned NOT NULL DEFAULT '1',
  date_add datetime NOT NULL,
  date_upd datetime NOT NULL,
  PRIMARY KEY (id_group)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_group_lang` (
  id_group int(10) unsigned NOT NULL,
  id_lang int(10) unsigned NOT NULL,
  name varchar(32) NOT NULL,
  PRIMARY KEY (id_group,id_lang)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_customer` (
  id_customer int(10) unsigned NOT NULL AUTO_INCREMENT,
  id_shop_group int(11) unsigned NOT NULL DEFAULT '1',
  id_shop int(11) unsigned NOT NULL DEFAULT '1',
  id_gender int(10) unsigned NOT NULL,
  id_default_group int(10) unsigned NOT NULL DEFAULT '1',
  id_lang int(10) unsigned DEFAULT NULL,
  id_risk int(10) unsigned NOT NULL DEFAULT '1',
  company varchar(255) DEFAULT NULL,
  siret varchar(14) DEFAULT NULL,
  ape varchar(6) DEFAULT NULL,
  firstname varchar(255) NOT NULL,
  lastname varchar(255) NOT NULL,
  email varchar(255) NOT NULL,
  passwd varchar(255) NOT NULL,
  last_passwd_gen timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  birthday date DEFAULT NULL,
  newsletter tinyint(1) unsigned NOT NULL DEFAULT '0',
  ip_registration_newsletter varchar(15) DEFAULT NULL,
  newsletter_date_add datetime DEFAULT NULL,
  optin tinyint(1) unsigned NOT NULL DEFAULT '0',
  website varchar(128) DEFAULT NULL,
  outstanding_allow_amount decimal(20,6) NOT NULL DEFAULT '0',
  show_public_prices tinyint(1) unsigned NOT NULL DEFAULT '0',
  max_payment_days int(10) unsigned NOT NULL DEFAULT '60',
  secure_key varchar(32) NOT NULL DEFAULT '-1',
  note mediumtext DEFAULT NULL,
  active tinyint(1) unsigned NOT NULL DEFAULT '0',
  is_guest tinyint(1) NOT NULL DEFAULT '0',
  deleted tinyint(1) NOT NULL DEFAULT '0',
  date_add datetime NOT NULL,
  date_upd datetime NOT NULL,
  reset_password_token varchar(40) DEFAULT NULL,
  reset_password_validity datetime DEFAULT NULL,
  PRIMARY KEY (id_customer),
  KEY customer_email (email),
  KEY customer_login (email,passwd),
  KEY id_customer_passwd (id_customer,passwd),
  KEY id_gender (id_gender),
  KEY id_shop_group (id_shop_group),
  KEY id_shop (id_shop,date_add)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_customer_group` (
  id_customer int(10) unsigned NOT NULL,
  id_group int(10) unsigned NOT NULL,
  PRIMARY KEY (id_customer,id_group),
  KEY customer_login (id_group),
  KEY id_customer (id_customer)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_address` (
  id_address int(10) unsigned NOT NULL AUTO_INCREMENT,
  id_country int(10) unsigned NOT NULL,
  id_state int(10) unsigned DEFAULT NULL,
  id_customer int(10) unsigned NOT NULL DEFAULT '0',
  id_manufacturer int(10) unsigned NOT NULL DEFAULT '0',
  id_supplier int(10) unsigned NOT NULL DEFAULT '0',
  id_warehouse int(10) unsigned NOT NULL DEFAULT '0',
  alias varchar(32) NOT NULL,
  company varchar(255) DEFAULT NULL,
  lastname varchar(255) NOT NULL,
  firstname varchar(255) NOT NULL,
  address1 varchar(128) NOT NULL,
  address2 varchar(128) DEFAULT NULL,
  postcode varchar(12) DEFAULT NULL,
  city varchar(64) NOT NULL,
  other mediumtext DEFAULT NULL,
  phone varchar(32) DEFAULT NULL,
  phone_mobile varchar(32) DEFAULT NULL,
  vat_number varchar(32) DEFAULT NULL,
  dni varchar(16) DEFAULT NULL,
  date_add datetime NOT NULL,
  date_upd datetime NOT NULL,
  active tinyint(1) unsigned NOT NULL DEFAULT '1',
  deleted tinyint(1) unsigned NOT NULL DEFAULT '0',
  PRIMARY KEY (id_address),
  KEY address_customer (id_customer),
  KEY id_country (id_country),
  KEY id_state (id_state),
  KEY id_manufacturer (id_manufacturer),
  KEY id_supplier (id_supplier),
  KEY id_warehouse (id_warehouse)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- ==== Catalogue ====
CREATE TABLE `PREFIX_category` (
  id_category int(10) unsigned NOT NULL AUTO_INCREMENT,
  id_parent int(10) unsigned NOT NULL,
  id_shop_default int(10) unsigned NOT NULL DEFAULT '1',
  level_depth tinyint(3) unsigned NOT NULL DEFAULT '0',
  nleft int(10) unsigned NOT NULL DEFAULT '0',
  nright int(10) unsigned NOT NULL DEFAULT '0',
  active tinyint(1) unsigned NOT NULL DEFAULT '0',
  date_add datetime NOT NULL,
  date_upd datetime NOT NULL,
  position int(10) unsigned NOT NULL DEFAULT '0',
  is_root_category tinyint(1) NOT NULL DEFAULT '0',
  PRIMARY KEY (id_category),
  KEY category_parent (id_parent),
  KEY nleftrightactive (nleft,nright,active),
  KEY level_depth (level_depth),
  KEY nright (nright),
  KEY activenleft (active,nleft),
  KEY activenright (active,nright)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_category_group` (
  id_category int(10) unsigned NOT NULL,
  id_group int(10) unsigned NOT NULL,
  PRIMARY KEY (id_category,id_group),
  KEY id_category (id_category),
  KEY id_group (id_group)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_category_lang` (
  id_category int(10) unsigned NOT NULL,
  id_shop int(11) unsigned NOT NULL DEFAULT '1',
  id_lang int(10) unsigned NOT NULL,
  name varchar(128) NOT NULL,
  description mediumtext DEFAULT NULL,
  additional_description mediumtext DEFAULT NULL,
  link_rewrite varchar(128) NOT NULL,
  meta_title varchar(255) DEFAULT NULL,
  meta_keywords varchar(255) DEFAULT NULL,
  meta_description varchar(512) DEFAULT NULL,
  PRIMARY KEY (id_category,id_shop,id_lang),
  KEY category_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_category_shop` (
  id_category int(11) NOT NULL,
  id_shop int(11) NOT NULL,
  position int(10) unsigned NOT NULL DEFAULT '0',
  PRIMARY KEY (id_category,id_shop)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_category_product` (
  id_category int(10) unsigned NOT NULL,
  id_product int(10) unsigned NOT NULL,
  position int(10) unsigned NOT NULL DEFAULT '0',
  PRIMARY KEY (id_category,id_product),
  KEY  (id_product),
  KEY  (id_category,position)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_product` (
  id_product int(10) unsigned NOT NULL AUTO_INCREMENT,
  id_supplier int(10) unsigned DEFAULT NULL,
  id_manufacturer int(10) unsigned DEFAULT NULL,
  id_category_default int(10) unsigned DEFAULT NULL,
  id_shop_default int(10) unsigned NOT NULL DEFAULT '1',
  id_tax_rules_group int(11) unsigned NOT NULL,
  on_sale tinyint(1) unsigned NOT NULL DEFAULT '0',
  online_only tinyint(1) unsigned NOT NULL DEFAULT '0',
  ean13 varchar(13) DEFAULT NULL,
  isbn varchar(32) DEFAULT NULL,
  upc varchar(12) DEFAULT NULL,
  mpn varchar(40) DEFAULT NULL,
  ecotax decimal(17,6) NOT NULL DEFAULT '0',
  quantity int(10) NOT NULL DEFAULT '0',
  minimal_quantity int(10) unsigned NOT NULL DEFAULT '1',
  low_stock_threshold int(10) DEFAULT NULL,
  low_stock_alert tinyint(1) NOT NULL DEFAULT '0',
  price decimal(20,6) NOT NULL DEFAULT '0',
  wholesale_price decimal(20,6) NOT NULL DEFAULT '0',
  unity varchar(255) DEFAULT NULL,
  unit_price decimal(20,6) NOT NULL DEFAULT '0',
  unit_price_ratio decimal(20,6) NOT NULL DEFAULT '0',
  additional_shipping_cost decimal(20,6) NOT NULL DEFAULT '0',
  reference varchar(64) DEFAULT NULL,
  supplier_reference varchar(64) DEFAULT NULL,
  location varchar(255) NOT NULL DEFAULT '',
  width decimal(20,6) NOT NULL DEFAULT '0',
  height decimal(20,6) NOT NULL DEFAULT '0',
  depth decimal(20,6) NOT NULL DEFAULT '0',
  weight decimal(20,6) NOT NULL DEFAULT '0',
  out_of_stock int(10) unsigned NOT NULL DEFAULT '2',
  additional_delivery_times tinyint(1) unsigned NOT NULL DEFAULT '1',
  quantity_discount tinyint(1) DEFAULT '0',
  customizable tinyint(2) NOT NULL DEFAULT '0',
  uploadable_files tinyint(4) NOT NULL DEFAULT '0',
  text_fields tinyint(4) NOT NULL DEFAULT '0',
  active tinyint(1) unsigned NOT NULL DEFAULT '0',
  redirect_type enum('','404','410','301-product','302-product','301-category','302-category','200-displayed','404-displayed','410-displayed','default') NOT NULL DEFAULT 'default',
  id_type_redirected int(10) unsigned NOT NULL DEFAULT '0',
  available_for_order tinyint(1) NOT NULL DEFAULT '1',
  available_date date DEFAULT NULL,
  show_condition tinyint(1) NOT NULL DEFAULT '0',
  `condition` enum('new','used','refurbished') NOT NULL DEFAULT 'new',
  show_price tinyint(1) NOT NULL DEFAULT '1',
  indexed tinyint(1) NOT NULL DEFAULT '0',
  visibility enum('both','catalog','search','none') NOT NULL DEFAULT 'both',
  cache_is_pack tinyint(1) NOT NULL DEFAULT '0',
  cache_has_attachments tinyint(1) NOT NULL DEFAULT '0',
  is_virtual tinyint(1) NOT NULL DEFAULT '0',
  cache_default_attribute int(10) unsigned DEFAULT NULL,
  date_add datetime NOT NULL,
  date_upd datetime NOT NULL,
  advanced_stock_management tinyint(1) NOT NULL DEFAULT '0',
  pack_stock_type int(11) unsigned NOT NULL DEFAULT '3',
  state int(11) unsigned NOT NULL DEFAULT '1',
  product_type enum('standard','pack','virtual','combinations','') NOT NULL DEFAULT '',
  PRIMARY KEY (id_product),
  KEY reference_idx (reference),
  KEY supplier_reference_idx (supplier_reference),
  KEY product_supplier (id_supplier),
  KEY product_manufacturer (id_manufacturer,id_product),
  KEY id_category_default (id_category_default),
  KEY indexed (indexed),
  KEY date_add (date_add),
  KEY state (state,date_upd)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_product_shop` (
  id_product int(10) unsigned NOT NULL,
  id_shop int(10) unsigned NOT NULL,
  id_category_default int(10) unsigned DEFAULT NULL,
  id_tax_rules_group int(11) unsigned NOT NULL,
  on_sale tinyint(1) unsigned NOT NULL DEFAULT '0',
  online_only tinyint(1) unsigned NOT NULL DEFAULT '0',
  ecotax decimal(17,6) NOT NULL DEFAULT '0',
  minimal_quantity int(10) unsigned NOT NULL DEFAULT '1',
  low_stock_threshold int(10) DEFAULT NULL,
  low_stock_alert tinyint(1) NOT NULL DEFAULT '0',
  price decimal(20,6) NOT NULL DEFAULT '0',
  wholesale_price decimal(20,6) NOT NULL DEFAULT '0',
  unity varchar(255) DEFAULT NULL,
  unit_price decimal(20,6) NOT NULL DEFAULT '0',
  unit_price_ratio decimal(20,6) NOT NULL DEFAULT '0',
  additional_shipping_cost decimal(20,6) NOT NULL DEFAULT '0',
  customizable tinyint(2) NOT NULL DEFAULT '0',
  uploadable_files tinyint(4) NOT NULL DEFAULT '0',
  text_fields tinyint(4) NOT NULL DEFAULT '0',
  active tinyint(1) unsigned NOT NULL DEFAULT '0',
  redirect_type enum('','404','410','301-product','302-product','301-category','302-category','200-displayed','404-displayed','410-displayed','default') NOT NULL DEFAULT 'default',
  id_type_redirected int(10) unsigned NOT NULL DEFAULT '0',
  available_for_order tinyint(1) NOT NULL DEFAULT '1',
  available_date date DEFAULT NULL,
  show_condition tinyint(1) NOT NULL DEFAULT '1',
  `condition` enum('new','used','refurbished') NOT NULL DEFAULT 'new',
  show_price tinyint(1) NOT NULL DEFAULT '1',
  indexed tinyint(1) NOT NULL DEFAULT '0',
  visibility enum('both','catalog','search','none') NOT NULL DEFAULT 'both',
  cache_default_attribute int(10) unsigned DEFAULT NULL,
  advanced_stock_management tinyint(1) NOT NULL DEFAULT '0',
  date_add datetime NOT NULL,
  date_upd datetime NOT NULL,
  pack_stock_type int(11) unsigned NOT NULL DEFAULT '3',
  PRIMARY KEY (id_product,id_shop),
  KEY id_category_default (id_category_default),
  KEY date_add (date_add,active,visibility),
  KEY indexed (indexed,active,id_product)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_product_lang` (
  id_product int(10) unsigned NOT NULL,
  id_shop int(11) unsigned NOT NULL DEFAULT '1',
  id_lang int(10) unsigned NOT NULL,
  description mediumtext DEFAULT NULL,
  description_short mediumtext DEFAULT NULL,
  link_rewrite varchar(128) NOT NULL,
  meta_description varchar(512) DEFAULT NULL,
  meta_keywords varchar(255) DEFAULT NULL,
  meta_title varchar(128) DEFAULT NULL,
  name varchar(128) NOT NULL,
  available_now varchar(255) DEFAULT NULL,
  available_later varchar(255) DEFAULT NULL,
  delivery_in_stock varchar(255) DEFAULT NULL,
  delivery_out_stock varchar(255) DEFAULT NULL,
  PRIMARY KEY (id_product,id_shop,id_lang),
  KEY id_lang (id_lang),
  KEY name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_attribute_group` (  -- Doctrine entity (not in db_structure.sql)
  id_attribute_group int(11) NOT NULL AUTO_INCREMENT,
  is_color_group tinyint(1) NOT NULL,
  group_type varchar(255) NOT NULL,
  position int(11) NOT NULL,
  PRIMARY KEY (id_attribute_group)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE `PREFIX_attribute_group_lang` (  -- Doctrine entity (not in db_structure.sql)
  id_attribute_group int(11) NOT NULL,
  id_lang int(11) NOT NULL,
  name varchar(128) NOT NULL,
  public_name varchar(64) NOT NULL,
  PRIMARY KEY (id_attribute_group,id_lang),
  KEY idx_id_attribute_group (id_attribute_group),
  KEY idx_id_lang (id_lang)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE `PREFIX_attribute_group_shop` (  -- Doctrine entity (not in db_structure.sql)
  id_attribute_group int(11) NOT NULL,
  id_shop int(11) NOT NULL,
  PRIMARY KEY (id_attribute_group,id_shop),
  KEY idx_id_attribute_group (id_attribute_group),
  KEY idx_id_shop (id_shop)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE `PREFIX_attribute` (  -- Doctrine entity (not in db_structure.sql)
  id_attribute int(11) NOT NULL AUTO_INCREMENT,
  id_attribute_group int(11) NOT NULL,
  color varchar(32) NOT NULL,
  position int(11) NOT NULL,
  PRIMARY KEY (id_attribute),
  KEY attribute_group (id_attribute_group)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE `PREFIX_attribute_lang` (  -- Doctrine entity (not in db_structure.sql)
  id_attribute int(11) NOT NULL,
  id_lang int(11) NOT NULL,
  name varchar(128) NOT NULL,
  PRIMARY KEY (id_attribute,id_lang),
  KEY idx_id_attribute (id_attribute),
  KEY idx_id_lang (id_lang)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE `PREFIX_attribute_shop` (  -- Doctrine entity (not in db_structure.sql)
  id_attribute int(11) NOT NULL,
  id_shop int(11) NOT NULL,
  PRIMARY KEY (id_attribute,id_shop),
  KEY idx_id_attribute (id_attribute),
  KEY idx_id_shop (id_shop)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE `PREFIX_product_attribute` (
  id_product_attribute int(10) unsigned NOT NULL AUTO_INCREMENT,
  id_product int(10) unsigned NOT NULL,
  reference varchar(64) DEFAULT NULL,
  supplier_reference varchar(64) DEFAULT NULL,
  ean13 varchar(13) DEFAULT NULL,
  isbn varchar(32) DEFAULT NULL,
  upc varchar(12) DEFAULT NULL,
  mpn varchar(40) DEFAULT NULL,
  wholesale_price decimal(20,6) NOT NULL DEFAULT '0',
  price decimal(20,6) NOT NULL DEFAULT '0',
  ecotax decimal(17,6) NOT NULL DEFAULT '0',
  weight decimal(20,6) NOT NULL DEFAULT '0',
  unit_price_impact decimal(20,6) NOT NULL DEFAULT '0',
  default_on tinyint(1) unsigned DEFAULT NULL,
  minimal_quantity int(10) unsigned NOT NULL DEFAULT '1',
  low_stock_threshold int(10) DEFAULT NULL,
  low_stock_alert tinyint(1) NOT NULL DEFAULT '0',
  available_date date DEFAULT NULL,
  PRIMARY KEY (id_product_attribute),
  KEY product_attribute_product (id_product),
  KEY reference (reference),
  KEY supplier_reference (supplier_reference),
  UNIQUE KEY product_default (id_product,default_on),
  KEY id_product_id_product_attribute (id_product_attribute,id_product)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_product_attribute_shop` (
  id_product int(10) unsigned NOT NULL,
  id_product_attribute int(10) unsigned NOT NULL,
  id_shop int(10) unsigned NOT NULL,
  wholesale_price decimal(20,6) NOT NULL DEFAULT '0',
  price decimal(20,6) NOT NULL DEFAULT '0',
  ecotax decimal(17,6) NOT NULL DEFAULT '0',
  weight decimal(20,6) NOT NULL DEFAULT '0',
  unit_price_impact decimal(20,6) NOT NULL DEFAULT '0',
  default_on tinyint(1) unsigned DEFAULT NULL,
  minimal_quantity int(10) unsigned NOT NULL DEFAULT '1',
  low_stock_threshold int(10) DEFAULT NULL,
  low_stock_alert tinyint(1) NOT NULL DEFAULT '0',
  available_date date DEFAULT NULL,
  PRIMARY KEY (id_product_attribute,id_shop),
  UNIQUE KEY id_product (id_product,id_shop,default_on)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_product_attribute_lang` (
  id_product_attribute int(10) unsigned NOT NULL,
  id_lang int(10) unsigned NOT NULL,
  available_now varchar(255) DEFAULT NULL,
  available_later varchar(255) DEFAULT NULL,
  PRIMARY KEY (id_product_attribute,id_lang)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_product_attribute_combination` (
  id_attribute int(10) unsigned NOT NULL,
  id_product_attribute int(10) unsigned NOT NULL,
  PRIMARY KEY (id_attribute,id_product_attribute),
  KEY id_product_attribute (id_product_attribute)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_product_sale` (
  id_product int(10) unsigned NOT NULL,
  quantity int(10) unsigned NOT NULL DEFAULT '0',
  sale_nbr int(10) unsigned NOT NULL DEFAULT '0',
  date_upd date DEFAULT NULL,
  PRIMARY KEY (id_product),
  KEY quantity (quantity)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- ==== Stock ====
CREATE TABLE `PREFIX_stock_available` (
  id_stock_available int(11) unsigned NOT NULL AUTO_INCREMENT,
  id_product int(11) unsigned NOT NULL,
  id_product_attribute int(11) unsigned NOT NULL,
  id_shop int(11) unsigned NOT NULL,
  id_shop_group int(11) unsigned NOT NULL,
  quantity int(10) NOT NULL DEFAULT '0',
  physical_quantity int(11) NOT NULL DEFAULT '0',
  reserved_quantity int(11) NOT NULL DEFAULT '0',
  depends_on_stock tinyint(1) unsigned NOT NULL DEFAULT '0',
  out_of_stock tinyint(1) unsigned NOT NULL DEFAULT '0',
  location varchar(255) NOT NULL DEFAULT '',
  PRIMARY KEY (id_stock_available),
  KEY id_shop (id_shop),
  KEY id_shop_group (id_shop_group),
  KEY id_product (id_product),
  KEY id_product_attribute (id_product_attribute),
  UNIQUE KEY product_sqlstock (id_product,id_product_attribute,id_shop,id_shop_group)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_stock_mvt` (  -- Doctrine entity (not in db_structure.sql)
  id_stock_mvt bigint(20) NOT NULL AUTO_INCREMENT,
  id_stock int(11) NOT NULL,
  id_order int(11) DEFAULT NULL,
  id_supply_order int(11) DEFAULT NULL,
  id_stock_mvt_reason int(11) NOT NULL,
  id_employee int(11) NOT NULL,
  employee_lastname varchar(255) DEFAULT NULL,
  employee_firstname varchar(255) DEFAULT NULL,
  physical_quantity int(10) unsigned NOT NULL,
  date_add datetime NOT NULL,
  sign smallint(6) NOT NULL DEFAULT '1',
  price_te decimal(20,6) DEFAULT '0',
  last_wa decimal(20,6) DEFAULT '0',
  current_wa decimal(20,6) DEFAULT '0',
  referer bigint(20) DEFAULT NULL,
  PRIMARY KEY (id_stock_mvt),
  KEY id_stock (id_stock),
  KEY id_stock_mvt_reason (id_stock_mvt_reason)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE `PREFIX_stock_mvt_reason` (
  id_stock_mvt_reason int(11) unsigned NOT NULL AUTO_INCREMENT,
  sign tinyint(1) NOT NULL DEFAULT '1',
  date_add datetime NOT NULL,
  date_upd datetime NOT NULL,
  deleted tinyint(1) unsigned NOT NULL DEFAULT '0',
  PRIMARY KEY (id_stock_mvt_reason)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_stock_mvt_reason_lang` (
  id_stock_mvt_reason int(11) unsigned NOT NULL,
  id_lang int(11) unsigned NOT NULL,
  name varchar(255) NOT NULL,
  PRIMARY KEY (id_stock_mvt_reason,id_lang)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- ==== Carriers ====
CREATE TABLE `PREFIX_carrier` (
  id_carrier int(10) unsigned NOT NULL AUTO_INCREMENT,
  id_reference int(10) unsigned NOT NULL,
  name varchar(64) NOT NULL,
  url varchar(255) DEFAULT NULL,
  active tinyint(1) unsigned NOT NULL DEFAULT '0',
  deleted tinyint(1) unsigned NOT NULL DEFAULT '0',
  shipping_handling tinyint(1) unsigned NOT NULL DEFAULT '1',
  range_behavior tinyint(1) unsigned NOT NULL DEFAULT '0',
  is_module tinyint(1) unsigned NOT NULL DEFAULT '0',
  is_free tinyint(1) unsigned NOT NULL DEFAULT '0',
  shipping_external tinyint(1) unsigned NOT NULL DEFAULT '0',
  need_range tinyint(1) unsigned NOT NULL DEFAULT '0',
  external_module_name varchar(64) DEFAULT NULL,
  shipping_method int(2) NOT NULL DEFAULT '0',
  position int(10) unsigned NOT NULL DEFAULT '0',
  max_width int(10) DEFAULT '0',
  max_height int(10) DEFAULT '0',
  max_depth int(10) DEFAULT '0',
  max_weight decimal(20,6) DEFAULT '0',
  grade int(10) DEFAULT '0',
  PRIMARY KEY (id_carrier),
  KEY deleted (deleted,active),
  KEY reference (id_reference,deleted,active)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_carrier_lang` (
  id_carrier int(10) unsigned NOT NULL,
  id_shop int(11) unsigned NOT NULL DEFAULT '1',
  id_lang int(10) unsigned NOT NULL,
  delay varchar(512) DEFAULT NULL,
  PRIMARY KEY (id_lang,id_shop,id_carrier)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_carrier_shop` (
  id_carrier int(11) unsigned NOT NULL,
  id_shop int(11) unsigned NOT NULL,
  PRIMARY KEY (id_carrier,id_shop),
  KEY id_shop (id_shop)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_carrier_zone` (
  id_carrier int(10) unsigned NOT NULL,
  id_zone int(10) unsigned NOT NULL,
  PRIMARY KEY (id_carrier,id_zone)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_carrier_tax_rules_group_shop` (
  id_carrier int(11) unsigned NOT NULL,
  id_tax_rules_group int(11) unsigned NOT NULL,
  id_shop int(11) unsigned NOT NULL,
  PRIMARY KEY (id_carrier,id_tax_rules_group,id_shop)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- ==== Carts and orders ====
CREATE TABLE `PREFIX_cart` (
  id_cart int(10) unsigned NOT NULL AUTO_INCREMENT,
  id_shop_group int(11) unsigned NOT NULL DEFAULT '1',
  id_shop int(11) unsigned NOT NULL DEFAULT '1',
  id_carrier int(10) unsigned NOT NULL,
  delivery_option mediumtext NOT NULL,
  id_lang int(10) unsigned NOT NULL,
  id_address_delivery int(10) unsigned NOT NULL,
  id_address_invoice int(10) unsigned NOT NULL,
  id_currency int(10) unsigned NOT NULL,
  id_customer int(10) unsigned NOT NULL,
  id_guest int(10) unsigned NOT NULL,
  secure_key varchar(32) NOT NULL DEFAULT '-1',
  recyclable tinyint(1) unsigned NOT NULL DEFAULT '1',
  gift tinyint(1) unsigned NOT NULL DEFAULT '0',
  gift_message mediumtext DEFAULT NULL,
  mobile_theme tinyint(1) NOT NULL DEFAULT '0',
  allow_seperated_package tinyint(1) unsigned NOT NULL DEFAULT '0',
  date_add datetime NOT NULL,
  date_upd datetime NOT NULL,
  checkout_session_data mediumtext DEFAULT NULL,
  PRIMARY KEY (id_cart),
  KEY cart_customer (id_customer),
  KEY id_address_delivery (id_address_delivery),
  KEY id_address_invoice (id_address_invoice),
  KEY id_carrier (id_carrier),
  KEY id_lang (id_lang),
  KEY id_currency (id_currency),
  KEY id_guest (id_guest),
  KEY id_shop_group (id_shop_group),
  KEY id_shop_2 (id_shop,date_upd),
  KEY id_shop (id_shop,date_add)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_cart_product` (
  id_cart int(10) unsigned NOT NULL,
  id_product int(10) unsigned NOT NULL,
  id_address_delivery int(10) unsigned NOT NULL DEFAULT '0',
  id_shop int(10) unsigned NOT NULL DEFAULT '1',
  id_product_attribute int(10) unsigned NOT NULL DEFAULT '0',
  id_customization int(10) unsigned NOT NULL DEFAULT '0',
  quantity int(10) unsigned NOT NULL DEFAULT '0',
  date_add datetime NOT NULL,
  PRIMARY KEY (id_cart,id_product,id_product_attribute,id_customization,id_address_delivery),
  KEY id_product_attribute (id_product_attribute),
  KEY id_cart_order (id_cart,date_add,id_product,id_product_attribute)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_orders` (
  id_order int(10) unsigned NOT NULL AUTO_INCREMENT,
  reference varchar(9) DEFAULT NULL,
  id_shop_group int(11) unsigned NOT NULL DEFAULT '1',
  id_shop int(11) unsigned NOT NULL DEFAULT '1',
  id_carrier int(10) unsigned NOT NULL,
  id_lang int(10) unsigned NOT NULL,
  id_customer int(10) unsigned NOT NULL,
  id_cart int(10) unsigned NOT NULL,
  id_currency int(10) unsigned NOT NULL,
  id_address_delivery int(10) unsigned NOT NULL,
  id_address_invoice int(10) unsigned NOT NULL,
  current_state int(10) unsigned NOT NULL,
  secure_key varchar(32) NOT NULL DEFAULT '-1',
  payment varchar(255) NOT NULL,
  conversion_rate decimal(13,6) NOT NULL DEFAULT '1',
  module varchar(255) DEFAULT NULL,
  recyclable tinyint(1) unsigned NOT NULL DEFAULT '0',
  gift tinyint(1) unsigned NOT NULL DEFAULT '0',
  gift_message mediumtext DEFAULT NULL,
  mobile_theme tinyint(1) NOT NULL DEFAULT '0',
  total_discounts decimal(20,6) NOT NULL DEFAULT '0',
  total_discounts_tax_incl decimal(20,6) NOT NULL DEFAULT '0',
  total_discounts_tax_excl decimal(20,6) NOT NULL DEFAULT '0',
  total_paid decimal(20,6) NOT NULL DEFAULT '0',
  total_paid_tax_incl decimal(20,6) NOT NULL DEFAULT '0',
  total_paid_tax_excl decimal(20,6) NOT NULL DEFAULT '0',
  total_paid_real decimal(20,6) NOT NULL DEFAULT '0',
  total_products decimal(20,6) NOT NULL DEFAULT '0',
  total_products_wt decimal(20,6) NOT NULL DEFAULT '0',
  total_shipping decimal(20,6) NOT NULL DEFAULT '0',
  total_shipping_tax_incl decimal(20,6) NOT NULL DEFAULT '0',
  total_shipping_tax_excl decimal(20,6) NOT NULL DEFAULT '0',
  carrier_tax_rate decimal(10,3) NOT NULL DEFAULT '0',
  total_wrapping decimal(20,6) NOT NULL DEFAULT '0',
  total_wrapping_tax_incl decimal(20,6) NOT NULL DEFAULT '0',
  total_wrapping_tax_excl decimal(20,6) NOT NULL DEFAULT '0',
  round_mode tinyint(1) NOT NULL DEFAULT '2',
  round_type tinyint(1) NOT NULL DEFAULT '1',
  invoice_number int(10) unsigned NOT NULL DEFAULT '0',
  delivery_number int(10) unsigned NOT NULL DEFAULT '0',
  invoice_date datetime NOT NULL,
  delivery_date datetime NOT NULL,
  valid int(1) unsigned NOT NULL DEFAULT '0',
  date_add datetime NOT NULL,
  date_upd datetime NOT NULL,
  note mediumtext DEFAULT NULL,
  PRIMARY KEY (id_order),
  KEY reference (reference),
  KEY id_customer (id_customer),
  KEY id_cart (id_cart),
  KEY invoice_number (invoice_number),
  KEY id_carrier (id_carrier),
  KEY id_lang (id_lang),
  KEY id_currency (id_currency),
  KEY id_address_delivery (id_address_delivery),
  KEY id_address_invoice (id_address_invoice),
  KEY id_shop_group (id_shop_group),
  KEY  (current_state),
  KEY id_shop (id_shop),
  KEY date_add (date_add)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_order_detail` (
  id_order_detail int(10) unsigned NOT NULL AUTO_INCREMENT,
  id_order int(10) unsigned NOT NULL,
  id_order_invoice int(11) DEFAULT NULL,
  id_warehouse int(10) unsigned DEFAULT '0',
  id_shop int(11) unsigned NOT NULL,
  product_id int(10) unsigned NOT NULL,
  product_attribute_id int(10) unsigned DEFAULT NULL,
  id_customization int(10) unsigned DEFAULT '0',
  product_name mediumtext NOT NULL,
  product_quantity int(10) unsigned NOT NULL DEFAULT '0',
  product_quantity_in_stock int(10) NOT NULL DEFAULT '0',
  product_quantity_refunded int(10) unsigned NOT NULL DEFAULT '0',
  product_quantity_return int(10) unsigned NOT NULL DEFAULT '0',
  product_quantity_reinjected int(10) unsigned NOT NULL DEFAULT '0',
  product_price decimal(20,6) NOT NULL DEFAULT '0',
  reduction_percent decimal(5,2) NOT NULL DEFAULT '0',
  reduction_amount decimal(20,6) NOT NULL DEFAULT '0',
  reduction_amount_tax_incl decimal(20,6) NOT NULL DEFAULT '0',
  reduction_amount_tax_excl decimal(20,6) NOT NULL DEFAULT '0',
  group_reduction decimal(5,2) NOT NULL DEFAULT '0',
  product_quantity_discount decimal(20,6) NOT NULL DEFAULT '0',
  product_ean13 varchar(13) DEFAULT NULL,
  product_isbn varchar(32) DEFAULT NULL,
  product_upc varchar(12) DEFAULT NULL,
  product_mpn varchar(40) DEFAULT NULL,
  product_reference varchar(64) DEFAULT NULL,
  product_supplier_reference varchar(64) DEFAULT NULL,
  product_weight decimal(20,6) NOT NULL,
  id_tax_rules_group int(11) unsigned DEFAULT '0',
  tax_computation_method tinyint(1) unsigned NOT NULL DEFAULT '0',
  tax_name varchar(16) NOT NULL,
  tax_rate decimal(10,3) NOT NULL DEFAULT '0',
  ecotax decimal(17,6) NOT NULL DEFAULT '0',
  ecotax_tax_rate decimal(5,3) NOT NULL DEFAULT '0',
  discount_quantity_applied tinyint(1) NOT NULL DEFAULT '0',
  download_hash varchar(255) DEFAULT NULL,
  download_nb int(10) unsigned DEFAULT '0',
  download_deadline datetime DEFAULT NULL,
  total_price_tax_incl decimal(20,6) NOT NULL DEFAULT '0',
  total_price_tax_excl decimal(20,6) NOT NULL DEFAULT '0',
  unit_price_tax_incl decimal(20,6) NOT NULL DEFAULT '0',
  unit_price_tax_excl decimal(20,6) NOT NULL DEFAULT '0',
  total_shipping_price_tax_incl decimal(20,6) NOT NULL DEFAULT '0',
  total_shipping_price_tax_excl decimal(20,6) NOT NULL DEFAULT '0',
  purchase_supplier_price decimal(20,6) NOT NULL DEFAULT '0',
  original_product_price decimal(20,6) NOT NULL DEFAULT '0',
  original_wholesale_price decimal(20,6) NOT NULL DEFAULT '0',
  total_refunded_tax_excl decimal(20,6) NOT NULL DEFAULT '0',
  total_refunded_tax_incl decimal(20,6) NOT NULL DEFAULT '0',
  PRIMARY KEY (id_order_detail),
  KEY order_detail_order (id_order),
  KEY product_id (product_id,product_attribute_id),
  KEY product_attribute_id (product_attribute_id),
  KEY id_tax_rules_group (id_tax_rules_group),
  KEY id_order_id_order_detail (id_order,id_order_detail)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_order_detail_tax` (
  id_order_detail int(11) NOT NULL,
  id_tax int(11) NOT NULL,
  unit_amount decimal(16,6) NOT NULL DEFAULT '0',
  total_amount decimal(16,6) NOT NULL DEFAULT '0',
  KEY  (id_order_detail),
  KEY id_tax (id_tax)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_order_carrier` (
  id_order_carrier int(11) NOT NULL AUTO_INCREMENT,
  id_order int(11) unsigned NOT NULL,
  id_carrier int(11) unsigned NOT NULL,
  id_order_invoice int(11) unsigned DEFAULT NULL,
  weight decimal(20,6) DEFAULT NULL,
  shipping_cost_tax_excl decimal(20,6) DEFAULT NULL,
  shipping_cost_tax_incl decimal(20,6) DEFAULT NULL,
  tracking_number varchar(64) DEFAULT NULL,
  date_add datetime NOT NULL,
  PRIMARY KEY (id_order_carrier),
  KEY id_order (id_order),
  KEY id_carrier (id_carrier),
  KEY id_order_invoice (id_order_invoice)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_order_cart_rule` (
  id_order_cart_rule int(10) unsigned NOT NULL AUTO_INCREMENT,
  id_order int(10) unsigned NOT NULL,
  id_cart_rule int(10) unsigned NOT NULL,
  id_order_invoice int(10) unsigned DEFAULT '0',
  name varchar(254) NOT NULL,
  value decimal(20,6) NOT NULL DEFAULT '0.000000',
  value_tax_excl decimal(20,6) NOT NULL DEFAULT '0.000000',
  free_shipping tinyint(1) NOT NULL DEFAULT '0',
  deleted tinyint(1) unsigned NOT NULL DEFAULT '0',
  PRIMARY KEY (id_order_cart_rule),
  KEY id_order (id_order),
  KEY id_cart_rule (id_cart_rule)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_order_history` (
  id_order_history int(10) unsigned NOT NULL AUTO_INCREMENT,
  id_employee int(10) unsigned NOT NULL,
  id_order int(10) unsigned NOT NULL,
  id_order_state int(10) unsigned NOT NULL,
  date_add datetime NOT NULL,
  PRIMARY KEY (id_order_history),
  KEY order_history_order (id_order),
  KEY id_employee (id_employee),
  KEY id_order_state (id_order_state)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_order_state` (
  id_order_state int(10) unsigned NOT NULL AUTO_INCREMENT,
  invoice tinyint(1) unsigned DEFAULT '0',
  send_email tinyint(1) unsigned NOT NULL DEFAULT '0',
  module_name varchar(255) DEFAULT NULL,
  color varchar(32) DEFAULT NULL,
  unremovable tinyint(1) unsigned NOT NULL,
  hidden tinyint(1) unsigned NOT NULL DEFAULT '0',
  logable tinyint(1) NOT NULL DEFAULT '0',
  delivery tinyint(1) unsigned NOT NULL DEFAULT '0',
  shipped tinyint(1) unsigned NOT NULL DEFAULT '0',
  paid tinyint(1) unsigned NOT NULL DEFAULT '0',
  pdf_invoice tinyint(1) unsigned NOT NULL DEFAULT '0',
  pdf_delivery tinyint(1) unsigned NOT NULL DEFAULT '0',
  deleted tinyint(1) unsigned NOT NULL DEFAULT '0',
  PRIMARY KEY (id_order_state),
  KEY module_name (module_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_order_state_lang` (
  id_order_state int(10) unsigned NOT NULL,
  id_lang int(10) unsigned NOT NULL,
  name varchar(64) NOT NULL,
  template varchar(64) NOT NULL,
  PRIMARY KEY (id_order_state,id_lang)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_order_invoice` (
  id_order_invoice int(11) unsigned NOT NULL AUTO_INCREMENT,
  id_order int(11) NOT NULL,
  number int(11) NOT NULL,
  delivery_number int(11) NOT NULL,
  delivery_date datetime DEFAULT NULL,
  total_discount_tax_excl decimal(20,6) NOT NULL DEFAULT '0',
  total_discount_tax_incl decimal(20,6) NOT NULL DEFAULT '0',
  total_paid_tax_excl decimal(20,6) NOT NULL DEFAULT '0',
  total_paid_tax_incl decimal(20,6) NOT NULL DEFAULT '0',
  total_products decimal(20,6) NOT NULL DEFAULT '0',
  total_products_wt decimal(20,6) NOT NULL DEFAULT '0',
  total_shipping_tax_excl decimal(20,6) NOT NULL DEFAULT '0',
  total_shipping_tax_incl decimal(20,6) NOT NULL DEFAULT '0',
  shipping_tax_computation_method int(10) unsigned NOT NULL,
  total_wrapping_tax_excl decimal(20,6) NOT NULL DEFAULT '0',
  total_wrapping_tax_incl decimal(20,6) NOT NULL DEFAULT '0',
  shop_address mediumtext DEFAULT NULL,
  note mediumtext DEFAULT NULL,
  date_add datetime NOT NULL,
  PRIMARY KEY (id_order_invoice),
  KEY id_order (id_order)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_order_invoice_tax` (
  id_order_invoice int(11) NOT NULL,
  type varchar(15) NOT NULL,
  id_tax int(11) NOT NULL,
  amount decimal(10,6) NOT NULL DEFAULT '0',
  KEY id_tax (id_tax)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_order_payment` (
  id_order_payment int(11) NOT NULL AUTO_INCREMENT,
  order_reference varchar(9) DEFAULT NULL,
  id_currency int(10) unsigned NOT NULL,
  amount decimal(20,6) NOT NULL,
  payment_method varchar(255) NOT NULL,
  conversion_rate decimal(13,6) NOT NULL DEFAULT '1',
  transaction_id varchar(254) DEFAULT NULL,
  card_number varchar(254) DEFAULT NULL,
  card_brand varchar(254) DEFAULT NULL,
  card_expiration char(7) DEFAULT NULL,
  card_holder varchar(254) DEFAULT NULL,
  date_add datetime NOT NULL,
  id_employee int(11) DEFAULT NULL,
  PRIMARY KEY (id_order_payment),
  KEY order_reference (order_reference)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_order_invoice_payment` (
  id_order_invoice int(11) unsigned NOT NULL,
  id_order_payment int(11) unsigned NOT NULL,
  id_order int(11) unsigned NOT NULL,
  PRIMARY KEY (id_order_invoice,id_order_payment),
  KEY order_payment (id_order_payment),
  KEY id_order (id_order)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE `PREFIX_search_index` (
  id_product int(11) unsigned NOT NULL,
  id_word int(11) unsigned NOT NULL,
  weight smallint(4) unsigned NOT NULL DEFAULT '1',
  PRIMARY KEY (id_word,id_product),
  KEY id_product (id_product,weight)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `PREFIX_search_word` (
  id_word int(10) unsigned NOT NULL AUTO_INCREMENT,
  id_shop int(11) unsigned NOT NULL DEFAULT '1',
  id_lang int(10) unsigned NOT NULL,
  word varchar(30) NOT NULL,
  PRIMARY KEY (id_word),
  UNIQUE KEY id_lang (id_lang,id_shop,word)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
